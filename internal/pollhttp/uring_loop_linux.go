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

// The event loop on io_uring. Each socket has one multishot receive that picks buffers
// from the provided-buffer ring; the kernel posts a completion per buffer it fills and
// signals the client's eventfd, which the loop goroutine waits on in Go's poller (as the
// epoll loop waits on its epoll set: no thread is held while nothing comes). A wake-up
// serves every completion ready, each parsed as soon as it is taken and its buffer given
// back after the batch, all of a batch timed when the loop woke; the receives, re-arms and
// cancellations it queued are submitted with one io_uring_enter. Reads cost no system call.
//
// The eventfd is never read: Go's poller watches it edge-triggered, and each signal (a
// completion, or another goroutine's request or abort) is an edge of its own.
//
// Kept simple on purpose: no SINGLE_ISSUER or DEFER_TASKRUN. They need every submission and
// wait on one locked OS thread, and then each hand-over between that thread and the
// goroutines sending requests is an OS thread switch: in a profile those switches cost more
// than the system calls they saved (docs/performance.md).

// User data of the requests that are not receives (receives count up from 1).
const uringCancelTag = 1 << 62 // cancellations: their completions are not needed

// uringLoop is the io_uring loop's own state (loop only).
type uringLoop struct {
	recvs  map[uint64]*call // receives in flight by user data
	last   uint64           // the last receive's user data
	rearm  []*call          // receives that ended while their response goes on
	used   []uint16         // buffers of this batch, given back after it
	rearms int              // receives armed again on a socket (tests)
}

// ringBufDefaults are the provided buffers' number and size.
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
	n, size := opts.ringBufDefaults()
	r, err := newRing(n, size, wakefd)
	if err != nil {
		unix.Close(wakefd)
		return nil, fmt.Errorf("pollhttp: %w", err)
	}
	c := &Client{opts: opts, epfd: -1, ring: r, wakefd: wakefd, calls: map[int]*call{}, idle: map[string][]int{},
		loopDone: make(chan struct{}), uring: uringLoop{recvs: map[uint64]*call{}}}
	// The eventfd, registered in Go's poller, parks the loop; a duplicate, so that Close's
	// closing of the ring's own descriptor and of this one stay apart.
	dup, err := unix.FcntlInt(uintptr(wakefd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		r.close(true)
		unix.Close(wakefd)
		return nil, fmt.Errorf("pollhttp: dup eventfd: %w", err)
	}
	c.ep = os.NewFile(uintptr(dup), "eventfd")
	if err := c.startLoop(c.ringPoll); err != nil {
		c.ep.Close()
		r.close(true)
		unix.Close(wakefd)
		return nil, err
	}
	return c, nil
}

// ringPoll serves what is ready; false parks the loop until the eventfd is signalled again,
// true ends it.
func (c *Client) ringPoll() bool {
	for {
		more, err := c.ringBatch()
		if err != nil {
			c.ringShutdown(err)
			return true
		}
		if !more {
			return false
		}
		runtime.Gosched() // the goroutines that send requests share this core
	}
}

// ringBatch serves one batch: aborts, new requests, then every completion ready. more:
// completions may be ready again (the submission itself receives what sockets hold).
func (c *Client) ringBatch() (more bool, err error) {
	at := time.Now()
	c.mu.Lock()
	closed := c.closed
	pending, aborts := c.pending, c.aborts
	c.pending, c.aborts = nil, nil
	c.mu.Unlock()
	if closed {
		return false, ErrClosed
	}
	c.endAborted(aborts)
	for _, cl := range pending {
		if !cl.ended {
			c.arm(cl)
		}
	}
	head, tail := c.ring.completions()
	more = head != tail
	for ; head != tail; head++ {
		c.completion(*c.ring.cqe(head), at)
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
	clear(c.uring.rearm)
	c.uring.rearm, c.uring.used = c.uring.rearm[:0], c.uring.used[:0]
	if c.ring.queued() {
		if err := c.ring.enter(0); err != nil {
			return false, err
		}
		more = true
	}
	return more, nil
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

// completion serves one completion taken at at.
func (c *Client) completion(e uringCQE, at time.Time) {
	if e.userData&uringCancelTag != 0 {
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
	case errors.Is(unix.Errno(-e.res), unix.ENOBUFS), errors.Is(unix.Errno(-e.res), unix.ECANCELED):
		// Out of buffers, or cancelled by the kernel (the thread that submitted it exited):
		// the bytes wait in the socket.
		if cl.recv == 0 {
			c.uring.rearm = append(c.uring.rearm, cl)
		}
	default:
		c.parse(batchRead{cl: cl, at: at, err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("recv", unix.Errno(-e.res))}})
	}
}

// ringShutdown cancels every receive, waits for their last completions and releases the
// ring, then fails what is still running and closes every socket. err is ErrClosed (Close)
// or the ring's failure.
func (c *Client) ringShutdown(err error) {
	if errors.Is(err, ErrClosed) {
		err = nil
	} else {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
	}
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
	// A cancelled receive's last completion is posted by the thread that submitted it, in its
	// own time: the cancellation is repeated (it always completes) until they all came.
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
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
				case e.userData&uringCancelTag == 0 && e.flags&uringCQEFMore == 0:
					if cl := c.uring.recvs[e.userData]; cl != nil {
						cl.recv = 0
					}
					delete(c.uring.recvs, e.userData)
				}
			}
			c.ring.consumed(head)
		}
		if len(c.uring.recvs) == 0 {
			return true
		}
	}
	return false
}
