//go:build linux

package pollhttp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrClosed is the error of a request still running when its Client is closed.
var ErrClosed = errors.New("pollhttp: client closed")

// Client sends requests and reads their responses on one event loop.
type Client struct {
	opts   Options
	epfd   int
	ep     *os.File // the epoll instance, itself registered in Go's poller: the loop parks without a thread
	ring   *ring    // instead of epoll: io_uring (uring_loop_linux.go)
	wakefd int      // eventfd: aborts and Close

	mu      sync.Mutex
	calls   map[int]*call    // socket → the request reading from it
	aborts  []*call          // requests whose callers gave up
	pending []*call          // io_uring: registered sockets the loop has yet to receive on
	idle    map[string][]int // address → sockets kept alive, most recent last
	closed  bool

	loopDone  chan struct{}
	closeOnce sync.Once
	// loop only
	events []unix.EpollEvent
	ready  []*call
	reads  []batchRead
	arena  []byte // batchSize reads of readSize bytes
	uring  uringLoop
}

// batchSize is the most sockets one epoll_wait returns.
const batchSize = 256

// call is one attempt at a request: the socket it is read from, and what its end leads to.
type call struct {
	fd       int
	addr     string
	h        Handler
	resp     response
	abortErr error // set under mu by whoever gives up: the context's watch, a failed write
	// What the attempt's end needs: the request (sent again if a kept-alive connection turned
	// out closed) and who to tell.
	ctx     context.Context
	req     Request
	reused  bool
	attempt int
	done    func(error)
	unwatch func() bool // stops the context's watch
	// refs counts who still has the call: the sender until the request is written, the loop
	// until the response ends. The last to let go completes it.
	refs atomic.Int32
	// loop only, then read by complete
	at      time.Time
	stopped bool   // the handler wants no more body
	ended   bool   // finish was called
	recv    uint64 // io_uring: the multishot receive on fd in flight (its user data), 0 if none
	err     error
}

func (c *call) header(status int, h http.Header) { c.h.Header(status, h) }

func (c *call) body(p []byte) {
	if !c.stopped && len(p) > 0 {
		c.stopped = !c.h.Body(p, c.at)
	}
}

// New starts a client's event loop; Close stops it.
func New(opts Options) (*Client, error) {
	if opts.Dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		opts.Dial = d.DialContext
	}
	if opts.MaxIdlePerAddr <= 0 {
		opts.MaxIdlePerAddr = 1 << 16
	}
	switch opts.Receive {
	case ReceiveAuto, ReceiveIOURing:
		c, err := newRingClient(opts)
		if err == nil || opts.Receive == ReceiveIOURing {
			return c, err
		}
		// io_uring is missing, too old, disabled or refused by seccomp here: epoll it is.
	case ReceiveEpoll, "":
	default:
		return nil, fmt.Errorf("pollhttp: receive %q: want %q, %q or %q", opts.Receive, ReceiveEpoll, ReceiveIOURing, ReceiveAuto)
	}
	return newEpollClient(opts)
}

// Receive is the receive path the client uses: ReceiveEpoll or ReceiveIOURing.
func (c *Client) Receive() string {
	if c.ring != nil {
		return ReceiveIOURing
	}
	return ReceiveEpoll
}

func newEpollClient(opts Options) (*Client, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("pollhttp: epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err == nil {
		err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)})
	}
	if err == nil {
		err = unix.SetNonblock(epfd, true)
	}
	if err != nil {
		unix.Close(epfd)
		if wakefd > 0 {
			unix.Close(wakefd)
		}
		return nil, fmt.Errorf("pollhttp: %w", err)
	}
	c := &Client{opts: opts, epfd: epfd, ep: os.NewFile(uintptr(epfd), "epoll"), wakefd: wakefd,
		calls: map[int]*call{}, idle: map[string][]int{}, loopDone: make(chan struct{}),
		events: make([]unix.EpollEvent, batchSize), arena: make([]byte, batchSize*readSize)}
	if err := c.startLoop(c.poll); err != nil {
		c.ep.Close()
		unix.Close(wakefd)
		return nil, err
	}
	return c, nil
}

// startLoop starts the loop goroutine: it parks in Go's poller on c.ep and runs poll each
// time c.ep is ready, until poll returns true.
func (c *Client) startLoop(poll func() bool) error {
	raw, err := c.ep.SyscallConn()
	if err != nil {
		return fmt.Errorf("pollhttp: %w", err)
	}
	go func() {
		defer close(c.loopDone)
		_ = raw.Read(func(uintptr) bool { return poll() })
	}()
	return nil
}

// Close fails the requests still running with ErrClosed, closes every connection and stops
// the loop.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.wake()
		<-c.loopDone // at once if the loop has already ended on an epoll error
		unix.Close(c.wakefd)
		if c.ep != nil {
			err = c.ep.Close()
		}
	})
	return err
}

// Do sends req and feeds its response to h until the response ends, the connection fails, or
// ctx is done (then the connection is closed and Do returns ctx's error). A request on a
// kept-alive connection that the server had closed while idle is sent again on a new one.
func (c *Client) Do(ctx context.Context, req Request, h Handler) error {
	done := make(chan error, 1)
	c.Start(ctx, req, h, func(err error) { done <- err })
	return <-done
}

// Start is Do without the wait: it dials (or takes a kept-alive connection) and writes the
// request on the caller's goroutine, and returns. Then no goroutine waits for the response:
// the event loop feeds it to h, ctx is watched with context.AfterFunc, and done is called
// once, on a goroutine of its own, with the error Do would have returned.
func (c *Client) Start(ctx context.Context, req Request, h Handler, done func(error)) {
	c.start(ctx, req, h, done, 0)
}

func (c *Client) start(ctx context.Context, req Request, h Handler, done func(error), attempt int) {
	fd, reused, err := c.conn(ctx, req.Addr)
	if err != nil {
		go done(err)
		return
	}
	if req.Connected != nil {
		req.Connected(reused)
	}
	cl := &call{fd: fd, addr: req.Addr, h: h, ctx: ctx, req: req, reused: reused, attempt: attempt, done: done}
	cl.refs.Store(2)
	// The loop watches the socket before the request is written: the response is read when
	// it arrives, however late this goroutine runs again.
	if err := c.register(cl); err != nil {
		go done(err)
		return
	}
	if err := c.write(ctx, fd, [][]byte{req.Data, req.Body}); err != nil {
		c.abort(cl, err)
	} else if req.Wrote != nil {
		req.Wrote()
	}
	// The context is watched once the socket is written (write itself checks it): an abort
	// has the loop close the socket, which must not happen under a write.
	cl.unwatch = context.AfterFunc(ctx, func() { c.abort(cl, ctx.Err()) })
	c.release(cl)
}

// release lets go of cl; the last one completes it, on a goroutine of its own.
func (c *Client) release(cl *call) {
	if cl.refs.Add(-1) == 0 {
		go c.complete(cl)
	}
}

// complete tells the caller how the request ended, or sends it again on a new connection if
// the server had closed the kept-alive one it went out on.
func (c *Client) complete(cl *call) {
	cl.unwatch()
	if cl.reused && cl.attempt == 0 && cl.ctx.Err() == nil && (errors.Is(cl.err, errNoResponse) || isWriteErr(cl.err)) {
		c.start(cl.ctx, cl.req, cl.h, cl.done, 1)
		return
	}
	cl.done(cl.err)
}

// conn takes a kept-alive socket for addr that is still open, or dials a new one.
func (c *Client) conn(ctx context.Context, addr string) (fd int, reused bool, err error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return -1, false, ErrClosed
		}
		pool := c.idle[addr]
		if len(pool) == 0 {
			c.mu.Unlock()
			break
		}
		fd = pool[len(pool)-1]
		c.idle[addr] = pool[:len(pool)-1]
		c.mu.Unlock()
		if alive(fd) {
			return fd, true, nil
		}
		c.closeFD(fd)
	}
	conn, err := c.opts.Dial(ctx, "tcp", addr)
	if err != nil {
		return -1, false, err
	}
	defer conn.Close()
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1, false, fmt.Errorf("pollhttp: dial %s gave a %T, which has no socket", addr, conn)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, false, fmt.Errorf("pollhttp: %w", err)
	}
	dupErr := raw.Control(func(s uintptr) { fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) })
	if err = errors.Join(dupErr, err); err != nil {
		return -1, false, fmt.Errorf("pollhttp: dup socket: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, false, fmt.Errorf("pollhttp: %w", err)
	}
	if c.opts.OnOpen != nil {
		c.opts.OnOpen()
	}
	return fd, false, nil
}

// alive says whether an idle socket is still open with nothing unread: a server that closed
// it, or sent something unasked, makes it useless.
func alive(fd int) bool {
	var b [1]byte
	_, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	return errors.Is(err, unix.EAGAIN)
}

// write sends the whole request (parts, in one writev while the socket takes it), waiting
// (in the caller's goroutine) while the socket's buffer is full.
func (c *Client) write(ctx context.Context, fd int, parts [][]byte) error {
	for {
		for len(parts) > 0 && len(parts[0]) == 0 {
			parts = parts[1:]
		}
		if len(parts) == 0 {
			return nil
		}
		n, err := unix.Writev(fd, parts)
		switch {
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			if ctx.Err() != nil {
				return ctx.Err()
			}
			_, _ = unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}, 100)
		case err != nil:
			return &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("writev", err)}
		default:
			for n > 0 { // what was written leaves parts
				k := min(n, len(parts[0]))
				parts[0], n = parts[0][k:], n-k
				if len(parts[0]) == 0 {
					parts = parts[1:]
				}
			}
		}
	}
}

func isWriteErr(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "write"
}

// register hands cl's socket to the loop. Under the lock, so that Close cannot fail the call
// between the two steps.
func (c *Client) register(cl *call) error {
	c.mu.Lock()
	err := ErrClosed
	if !c.closed {
		c.calls[cl.fd] = cl
		err = nil
		if c.ring != nil {
			c.pending = append(c.pending, cl) // the loop, the ring's only submitter, arms a receive
		} else if err = unix.EpollCtl(c.epfd, unix.EPOLL_CTL_ADD, cl.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(cl.fd)}); err != nil {
			delete(c.calls, cl.fd)
			err = fmt.Errorf("pollhttp: epoll_ctl: %w", err)
		}
	}
	c.mu.Unlock()
	switch {
	case err != nil:
		c.closeFD(cl.fd)
	case c.ring != nil:
		c.wake()
	}
	return err
}

// abort has the loop end cl with err; nothing happens once cl has ended. The first error wins.
func (c *Client) abort(cl *call, err error) {
	c.mu.Lock()
	reading := c.calls[cl.fd] == cl
	if cl.abortErr == nil {
		cl.abortErr = err
	}
	if reading {
		c.aborts = append(c.aborts, cl)
	}
	c.mu.Unlock()
	if reading {
		c.wake()
	}
}

func (c *Client) wake() {
	one := [8]byte{1}
	_, _ = unix.Write(c.wakefd, one[:])
}

func (c *Client) closeFD(fd int) {
	unix.Close(fd)
	if c.opts.OnClose != nil {
		c.opts.OnClose()
	}
}

// poll serves the ready sockets; false parks the loop until the epoll set is ready again,
// true ends it. It parks as soon as a batch has drained every socket it read (each read
// returned less than the buffer): a socket that gets data after its read makes the set
// ready again, so no second, empty epoll_wait is needed before parking.
func (c *Client) poll() bool {
	for {
		n, err := unix.EpollWait(c.epfd, c.events, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		c.mu.Lock()
		closed := c.closed || err != nil
		c.closed = closed
		c.mu.Unlock()
		if closed {
			if err != nil {
				err = fmt.Errorf("epoll_wait: %w", err)
			}
			c.shutdown(err)
			return true
		}
		if n == 0 {
			return false
		}
		more := c.handle(c.events[:n]) || n == len(c.events)
		runtime.Gosched() // the goroutines that send requests share this core
		if !more {
			return false
		}
	}
}

// handle serves one batch of ready sockets: aborts first, then one read per socket, then the
// parsing of what they returned. more: a
// socket may still be readable after its read — the read filled the buffer, or the peer had
// closed or reset (the end is read by a read of its own, and no new event will announce it).
func (c *Client) handle(events []unix.EpollEvent) (more bool) {
	const ended = unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR
	ready := c.ready[:0]
	c.mu.Lock()
	for _, ev := range events {
		if cl := c.calls[int(ev.Fd)]; cl != nil {
			ready = append(ready, cl)
			more = more || ev.Events&ended != 0
		}
	}
	aborts := c.aborts
	c.aborts = nil
	c.mu.Unlock()
	var drain [8]byte
	_, _ = unix.Read(c.wakefd, drain[:])
	c.endAborted(aborts)
	// Read every ready socket first, then parse what came: a socket late in the batch is read,
	// and timed, after the others' reads rather than after their parsing as well.
	reads, off := c.reads[:0], 0
	for _, cl := range ready {
		if cl.ended {
			continue
		}
		space := c.arena[off : off+readSize]
		n, err := unix.Read(cl.fd, space)
		r := batchRead{cl: cl, at: time.Now()}
		switch {
		case errors.Is(err, unix.EINTR):
			more = true
			continue
		case errors.Is(err, unix.EAGAIN):
			continue
		case err != nil:
			r.err = &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}
		default: // n == 0 is the end of the connection
			r.p, off = space[:n], off+n
			more = more || n == len(space)
		}
		reads = append(reads, r)
	}
	for _, r := range reads {
		c.parse(r)
	}
	clear(ready)
	clear(reads)
	c.ready, c.reads = ready[:0], reads[:0]
	return more
}

// readSize is the most one read of a batch takes from a socket; a socket that fills it is
// read again at once.
const readSize = 16 << 10

// batchRead is one read of a batch: the bytes it returned (none at the end of the
// connection), when it returned, or its error.
type batchRead struct {
	cl  *call
	p   []byte
	at  time.Time
	err error
}

// parse hands what one read returned to its response.
func (c *Client) parse(r batchRead) {
	cl := r.cl
	switch {
	case r.err != nil:
		c.finish(cl, r.err)
		return
	case len(r.p) == 0:
		c.finish(cl, cl.resp.eof())
		return
	}
	cl.at = r.at
	rest, err := cl.resp.feed(r.p, cl)
	switch {
	case err != nil:
		c.finish(cl, err)
	case cl.resp.done():
		cl.resp.close = cl.resp.close || len(rest) > 0 // bytes nobody asked for: do not reuse
		c.finish(cl, nil)
	}
}

// endAborted ends the calls whose callers gave up, those not ended already, with their
// abort's error.
func (c *Client) endAborted(aborts []*call) {
	for _, cl := range aborts {
		if !cl.ended {
			c.finish(cl, cl.abortErr)
		}
	}
}

// finish ends cl with err. With io_uring, a receive still in flight on the socket is
// cancelled first: the socket is let go when the receive's last completion has come, so
// that no receive of this request takes the next one's bytes.
func (c *Client) finish(cl *call, err error) {
	cl.err, cl.ended = err, true
	if cl.recv != 0 {
		c.cancelRecv(cl)
		return
	}
	c.letGo(cl)
}

// letGo completes cl: its socket goes back to the pool if the response ended cleanly and
// the server keeps the connection, and is closed otherwise.
func (c *Client) letGo(cl *call) {
	if c.ring == nil {
		_ = unix.EpollCtl(c.epfd, unix.EPOLL_CTL_DEL, cl.fd, nil)
	}
	err := cl.err
	keep := err == nil && cl.resp.done() && !cl.resp.close
	c.mu.Lock()
	delete(c.calls, cl.fd)
	if keep && !c.closed && len(c.idle[cl.addr]) < c.opts.MaxIdlePerAddr {
		c.idle[cl.addr] = append(c.idle[cl.addr], cl.fd)
	} else {
		keep = false
	}
	c.mu.Unlock()
	if !keep {
		c.closeFD(cl.fd)
	}
	c.release(cl)
}

// shutdown fails what is still running and closes every socket: the client was closed, or
// its epoll set failed (err).
func (c *Client) shutdown(err error) {
	reason := ErrClosed
	if err != nil {
		reason = fmt.Errorf("%w: %w", ErrClosed, err)
	}
	c.mu.Lock()
	running := make([]*call, 0, len(c.calls))
	for _, cl := range c.calls {
		running = append(running, cl)
	}
	idle := c.idle
	c.idle = map[string][]int{}
	c.mu.Unlock()
	for _, cl := range running {
		if cl.ended { // io_uring: its receive was being cancelled
			c.letGo(cl)
			continue
		}
		c.finish(cl, reason)
	}
	for _, fds := range idle {
		for _, fd := range fds {
			c.closeFD(fd)
		}
	}
}
