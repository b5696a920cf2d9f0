//go:build linux

package pollhttp

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// The event loop on io_uring. One goroutine, locked to its OS thread, owns the ring (set up
// SINGLE_ISSUER and DEFER_TASKRUN: the kernel runs the receives' work only while this thread
// waits in io_uring_enter, so a batch of completions costs one system call and no other
// thread is interrupted). Each socket has one multishot receive that picks buffers from the
// provided-buffer ring; each completion is parsed as soon as it is taken, its buffer given
// back after, and all of a batch's completions carry the time the wait returned. Requests
// and aborts from other goroutines reach the loop through the eventfd, which the ring reads.

// User data of the requests that are not receives (receives count up from 1).
const (
	uringWakeTag   = 1 << 63 // the read of the wake-up eventfd
	uringCancelTag = 1 << 62 // cancellations: their completions are not needed
)

// uringLoop is the io_uring loop's own state (loop only).
type uringLoop struct {
	recvs     map[uint64]*call // receives in flight by user data
	last      uint64           // the last receive's user data
	rearm     []*call          // receives that ended while their response goes on
	used      []uint16         // buffers of this batch, given back after it
	wakeArmed bool
	rearms    int // receives armed again on a socket (tests)
}

// ringBufs are the provided buffers' number and size.
func (o Options) ringBufDefaults() (n, size int) {
	n, size = o.ringBufs, o.ringBufSize
	if n == 0 {
		n = uringDefaultBufs
	}
	if size == 0 {
		size = uringDefaultBufBytes
	}
	return n, size
}

// newRingClient starts a client whose loop receives through io_uring, or fails where the
// kernel does not allow it.
func newRingClient(opts Options) (*Client, error) {
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("pollhttp: eventfd: %w", err)
	}
	c := &Client{opts: opts, epfd: -1, wakefd: wakefd, calls: map[int]*call{}, idle: map[string][]int{},
		loopDone: make(chan struct{}), uring: uringLoop{recvs: map[uint64]*call{}}}
	started := make(chan error, 1)
	go c.runRing(started)
	if err := <-started; err != nil {
		unix.Close(wakefd)
		return nil, fmt.Errorf("pollhttp: %w", err)
	}
	return c, nil
}

// runRing sets the ring up on this goroutine's thread and runs the loop until Close.
func (c *Client) runRing(started chan<- error) {
	runtime.LockOSThread() // not unlocked: the thread ends with the loop
	r, err := newRing(c.opts.ringBufDefaults())
	if err == nil {
		c.ring = r
		err = c.armWake()
	}
	if err != nil {
		if r != nil {
			r.close(true)
		}
		c.ring = nil
		started <- err
		return
	}
	started <- nil
	defer close(c.loopDone)
	for c.ringBatch() {
	}
}

func (c *Client) armWake() error {
	c.uring.wakeArmed = true
	return c.ring.read(c.wakefd, c.ring.wakeBuf(), uringWakeTag)
}

// ringBatch submits what was queued, waits for completions and serves them; false once
// the client is closed or the ring failed.
func (c *Client) ringBatch() bool {
	err := c.ring.enter(1)
	at := time.Now()
	c.mu.Lock()
	closed := c.closed || err != nil
	c.closed = closed
	pending, aborts := c.pending, c.aborts
	c.pending, c.aborts = nil, nil
	c.mu.Unlock()
	if closed {
		c.ringShutdown(err)
		return false
	}
	for _, cl := range aborts {
		if !cl.ended {
			c.finish(cl, cl.abortErr)
		}
	}
	for _, cl := range pending {
		if !cl.ended {
			c.arm(cl)
		}
	}
	head, tail := c.ring.completions()
	for ; head != tail; head++ {
		c.complete(*c.ring.cqe(head), at)
	}
	c.ring.consumed(head)
	for _, bid := range c.uring.used {
		c.ring.giveBuf(bid)
	}
	if len(c.uring.used) > 0 {
		c.ring.publishBufs()
	}
	// Receives that ended on a lack of buffers (or for any other reason while the response
	// goes on) are armed again now that buffers are back; their bytes waited in the socket.
	for _, cl := range c.uring.rearm {
		if !cl.ended && cl.recv == 0 {
			c.arm(cl)
			c.uring.rearms++
		}
	}
	if !c.uring.wakeArmed {
		if err := c.armWake(); err != nil {
			c.ringShutdown(err)
			return false
		}
	}
	clear(c.uring.rearm)
	c.uring.rearm, c.uring.used = c.uring.rearm[:0], c.uring.used[:0]
	runtime.Gosched() // the goroutines that send requests share this core
	return true
}

// arm queues a multishot receive on cl's socket.
func (c *Client) arm(cl *call) {
	c.uring.last++
	if err := c.ring.recvMultishot(cl.fd, c.uring.last); err != nil {
		c.finish(cl, fmt.Errorf("pollhttp: %w", err))
		return
	}
	cl.recv = c.uring.last
	c.uring.recvs[cl.recv] = cl
}

// cancelRecv queues the cancellation of cl's receive; its last completion lets cl go.
func (c *Client) cancelRecv(cl *call) {
	// An error here is a broken ring: the next wait fails and shutdown lets cl go.
	_ = c.ring.cancel(cl.recv, uringCancelTag)
}

// complete serves one completion taken at at.
func (c *Client) complete(e uringCQE, at time.Time) {
	switch {
	case e.userData == uringWakeTag:
		c.uring.wakeArmed = false // the eventfd's count was read: aborts and requests were taken above
		return
	case e.userData&uringCancelTag != 0:
		return
	}
	cl := c.uring.recvs[e.userData]
	if e.flags&uringCQEFMore == 0 { // the receive's last completion
		delete(c.uring.recvs, e.userData)
		if cl != nil {
			cl.recv = 0
		}
	}
	var p []byte
	if e.flags&uringCQEFBuffer != 0 {
		bid := uint16(e.flags >> uringCQEBufferShift)
		c.uring.used = append(c.uring.used, bid)
		p = c.ring.buf(bid, int(max(e.res, 0)))
	}
	switch {
	case cl == nil:
	case cl.ended: // its receive was being cancelled
		if e.res >= 0 {
			cl.resp.close = true // bytes, or the end, after the response: the connection is not reusable
		}
		if cl.recv == 0 {
			c.letGo(cl)
		}
	case e.res >= 0: // bytes, or the end of the connection (0)
		c.parse(batchRead{cl: cl, p: p, at: at})
		if e.res > 0 && cl.recv == 0 && !cl.ended {
			c.uring.rearm = append(c.uring.rearm, cl)
		}
	case errors.Is(unix.Errno(-e.res), unix.ENOBUFS):
		if cl.recv == 0 {
			c.uring.rearm = append(c.uring.rearm, cl) // the bytes wait in the socket
		}
	default:
		c.parse(batchRead{cl: cl, at: at, err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("recv", unix.Errno(-e.res))}})
	}
}

// ringShutdown cancels every receive, waits for their last completions and releases the
// ring, then fails what is still running and closes every socket.
func (c *Client) ringShutdown(err error) {
	idle := err == nil && c.drain()
	c.ring.close(idle)
	for _, cl := range c.uring.recvs {
		cl.recv = 0
	}
	clear(c.uring.recvs)
	c.mu.Lock()
	c.pending = nil
	c.mu.Unlock()
	c.shutdown(err)
}

// drain cancels every request in flight and takes completions until none is left; false
// if some could not be seen to end (then the buffers stay mapped).
func (c *Client) drain() bool {
	for range 3 {
		if c.ring.cancelAll(uringCancelTag|1) != nil {
			return false
		}
		for cancelled := false; !cancelled; {
			if c.ring.enter(1) != nil {
				return false
			}
			head, tail := c.ring.completions()
			for ; head != tail; head++ {
				e := c.ring.cqe(head)
				switch {
				case e.userData == uringCancelTag|1:
					cancelled = true
				case e.userData == uringWakeTag:
					c.uring.wakeArmed = false
				case e.userData&uringCancelTag == 0 && e.flags&uringCQEFMore == 0:
					if cl := c.uring.recvs[e.userData]; cl != nil {
						cl.recv = 0
					}
					delete(c.uring.recvs, e.userData)
				}
			}
			c.ring.consumed(head)
		}
		if len(c.uring.recvs) == 0 && !c.uring.wakeArmed {
			return true
		}
	}
	return false
}
