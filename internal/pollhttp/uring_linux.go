//go:build linux

package pollhttp

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A minimal io_uring on raw system calls (no library: none is on the module proxy here),
// only what the receive loop needs: a submission and a completion ring, a ring of provided
// buffers, multishot receives and cancellations. Values from linux/io_uring.h.
const (
	uringSetupCQSize    = 1 << 3
	uringSetupSubmitAll = 1 << 7

	uringFeatSingleMmap = 1 << 0
	uringFeatNoDrop     = 1 << 1

	uringOffSQRing = 0
	uringOffSQEs   = 0x10000000

	uringEnterGetEvents = 1 << 0

	uringRegisterEventfd  = 4
	uringRegisterPbufRing = 22 // kernel 5.19

	uringOpAsyncCancel = 14
	uringOpRecv        = 27

	uringCancelAll = 1 << 0
	uringCancelAny = 1 << 2

	uringSQEBufferSelect = 1 << 5
	uringRecvMultishot   = 1 << 1 // kernel 6.0

	uringCQEFBuffer      = 1 << 0
	uringCQEFMore        = 1 << 1
	uringCQEBufferShift  = 16
	uringBufGroup        = 0
	uringBufEntrySize    = 16 // struct io_uring_buf
	uringBufTailOffset   = 14 // the ring's tail overlays buf[0]'s reserved field
	uringSQEntries       = 1024
	uringCQEntries       = 16384
	uringDefaultBufs     = 1024
	uringDefaultBufBytes = 4 << 10
)

// uringParams is struct io_uring_params.
type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  struct{ head, tail, ringMask, ringEntries, flags, dropped, array, resv1, resv2, resv3 uint32 }
	cqOff                                                                  struct{ head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1, resv2, resv3 uint32 }
}

// uringSQE is struct io_uring_sqe (64 bytes).
type uringSQE struct {
	opcode, flags uint8
	ioprio        uint16
	fd            int32
	off, addr     uint64
	len, opFlags  uint32
	userData      uint64
	bufGroup      uint16
	personality   uint16
	spliceFdIn    int32
	addr3, pad    uint64
}

// uringCQE is struct io_uring_cqe.
type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

// uringBufReg is struct io_uring_buf_reg.
type uringBufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid, pad   uint16
	resv        [3]uint64
}

// ring is one io_uring with a group of provided buffers, used by one goroutine at a time.
type ring struct {
	fd                int
	rings, sqeMem     []byte
	sqHead, sqTail    *uint32
	sqMask            uint32
	sqes              []uringSQE
	cqHead, cqTail    *uint32
	cqMask            uint32
	cqes              []uringCQE
	tail              uint32 // SQEs prepared; published to *sqTail at enter
	bufRing, bufMem   []byte
	bufSize, bufCount int
	bufTail           uint16 // buffers handed to the kernel; published by publishBufs
}

// newRing sets up a ring whose receives pick from bufs buffers of bufSize bytes and that
// signals eventfd when it posts completions. It fails on kernels before 6.0 (no multishot
// receive), where io_uring is disabled (EPERM) or filtered by seccomp (EPERM, ENOSYS).
func newRing(bufs, bufSize, eventfd int) (r *ring, err error) {
	if err := kernelAtLeast(6, 0); err != nil {
		return nil, err
	}
	p := uringParams{flags: uringSetupCQSize | uringSetupSubmitAll, cqEntries: uringCQEntries}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uringSQEntries, uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	r = &ring{fd: int(fd), bufSize: bufSize, bufCount: bufs}
	defer func() {
		if err != nil {
			r.close(true) // nothing was submitted
		}
	}()
	if p.features&uringFeatSingleMmap == 0 || p.features&uringFeatNoDrop == 0 {
		return r, errors.New("io_uring: the kernel lacks SINGLE_MMAP or NODROP")
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	if r.rings, err = unix.Mmap(r.fd, uringOffSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return r, fmt.Errorf("io_uring: mmap rings: %w", err)
	}
	if r.sqeMem, err = unix.Mmap(r.fd, uringOffSQEs, int(p.sqEntries)*64, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return r, fmt.Errorf("io_uring: mmap sqes: %w", err)
	}
	at := func(off uint32) unsafe.Pointer { return unsafe.Pointer(&r.rings[off]) }
	r.sqHead, r.sqTail = (*uint32)(at(p.sqOff.head)), (*uint32)(at(p.sqOff.tail))
	r.sqMask = *(*uint32)(at(p.sqOff.ringMask))
	array := unsafe.Slice((*uint32)(at(p.sqOff.array)), p.sqEntries)
	for i := range array {
		array[i] = uint32(i) // SQE i is always in slot i
	}
	r.sqes = unsafe.Slice((*uringSQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.cqHead, r.cqTail = (*uint32)(at(p.cqOff.head)), (*uint32)(at(p.cqOff.tail))
	r.cqMask = *(*uint32)(at(p.cqOff.ringMask))
	r.cqes = unsafe.Slice((*uringCQE)(at(p.cqOff.cqes)), p.cqEntries)
	r.tail = *r.sqTail
	efd := int32(eventfd)
	if _, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), uringRegisterEventfd, uintptr(unsafe.Pointer(&efd)), 1, 0, 0); errno != 0 {
		return r, fmt.Errorf("io_uring: register eventfd: %w", errno)
	}
	return r, r.setupBufs()
}

// kernelAtLeast fails on a kernel older than major.minor.
func kernelAtLeast(major, minor int) error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return fmt.Errorf("uname: %w", err)
	}
	release := unix.ByteSliceToString(u.Release[:])
	var maj, min int
	if _, err := fmt.Sscanf(release, "%d.%d", &maj, &min); err != nil {
		return fmt.Errorf("kernel release %q: %w", release, err)
	}
	if maj < major || maj == major && min < minor {
		return fmt.Errorf("io_uring: kernel %s, multishot receive needs %d.%d", release, major, minor)
	}
	return nil
}

// setupBufs maps the buffers and their ring (memory the garbage collector does not manage:
// the kernel writes into it at any time) and registers the ring as buffer group 0.
func (r *ring) setupBufs() error {
	if r.bufCount < 1 || r.bufCount > 1<<15 || r.bufCount&(r.bufCount-1) != 0 {
		return fmt.Errorf("io_uring: %d buffers, want a power of two up to 32768", r.bufCount)
	}
	var err error
	if r.bufRing, err = unix.Mmap(-1, 0, r.bufCount*uringBufEntrySize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err != nil {
		return fmt.Errorf("io_uring: mmap buffer ring: %w", err)
	}
	if r.bufMem, err = unix.Mmap(-1, 0, r.bufCount*r.bufSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err != nil {
		return fmt.Errorf("io_uring: mmap buffers: %w", err)
	}
	reg := uringBufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&r.bufRing[0]))), ringEntries: uint32(r.bufCount), bgid: uringBufGroup}
	if _, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), uringRegisterPbufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0); errno != 0 {
		return fmt.Errorf("io_uring: register buffer ring: %w", errno)
	}
	for bid := range r.bufCount {
		r.giveBuf(uint16(bid))
	}
	r.publishBufs()
	return nil
}

// buf is provided buffer bid's first n bytes.
func (r *ring) buf(bid uint16, n int) []byte {
	off := int(bid) * r.bufSize
	return r.bufMem[off : off+n : off+r.bufSize]
}

// giveBuf puts buffer bid back in the ring; the kernel sees it once publishBufs runs.
func (r *ring) giveBuf(bid uint16) {
	e := r.bufRing[(int(r.bufTail)&(r.bufCount-1))*uringBufEntrySize:]
	*(*uint64)(unsafe.Pointer(&e[0])) = uint64(uintptr(unsafe.Pointer(&r.bufMem[int(bid)*r.bufSize])))
	*(*uint32)(unsafe.Pointer(&e[8])) = uint32(r.bufSize)
	*(*uint16)(unsafe.Pointer(&e[12])) = bid // not e[14]: in entry 0 that is the ring's tail
	r.bufTail++
}

// publishBufs makes the buffers given back visible to the kernel: one atomic store of the
// ring's tail (in the 32-bit word it shares with entry 0's buffer id, which is ours).
func (r *ring) publishBufs() {
	word := (*uint32)(unsafe.Pointer(&r.bufRing[uringBufTailOffset-2]))
	bid0 := *(*uint16)(unsafe.Pointer(&r.bufRing[12]))
	atomic.StoreUint32(word, uint32(bid0)|uint32(r.bufTail)<<16)
}

// sqe returns the next submission entry, zeroed; a full queue is submitted first.
func (r *ring) sqe() (*uringSQE, error) {
	if r.tail-atomic.LoadUint32(r.sqHead) >= uint32(len(r.sqes)) {
		if err := r.enter(0); err != nil {
			return nil, err
		}
	}
	e := &r.sqes[r.tail&r.sqMask]
	*e = uringSQE{}
	r.tail++
	return e, nil
}

// recvMultishot queues a multishot receive on fd into the provided buffers.
func (r *ring) recvMultishot(fd int, userData uint64) error {
	e, err := r.sqe()
	if err != nil {
		return err
	}
	e.opcode, e.fd, e.ioprio, e.flags, e.bufGroup, e.userData = uringOpRecv, int32(fd), uringRecvMultishot, uringSQEBufferSelect, uringBufGroup, userData
	return nil
}

// cancel queues the cancellation of the request with target's user data; its own
// completion carries userData.
func (r *ring) cancel(target, userData uint64) error {
	e, err := r.sqe()
	if err != nil {
		return err
	}
	e.opcode, e.fd, e.addr, e.userData = uringOpAsyncCancel, -1, target, userData
	return nil
}

// queued says whether submissions wait for enter.
func (r *ring) queued() bool { return r.tail != atomic.LoadUint32(r.sqHead) }

// enter submits what was queued and, with wait, blocks until a completion is ready.
func (r *ring) enter(wait uint32) error {
	atomic.StoreUint32(r.sqTail, r.tail)
	flags := uintptr(0)
	if wait > 0 {
		flags = uringEnterGetEvents
	}
	for {
		submit := r.tail - atomic.LoadUint32(r.sqHead)
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(submit), uintptr(wait), flags, 0, 0)
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		case unix.EBUSY, unix.EAGAIN:
			return nil // the completion ring and its overflow are full: take completions first
		}
		return fmt.Errorf("io_uring_enter: %w", errno)
	}
}

// completions are the entries from head to tail that are ready now; consumed frees them.
func (r *ring) completions() (head, tail uint32) {
	return *r.cqHead, atomic.LoadUint32(r.cqTail)
}

func (r *ring) cqe(i uint32) *uringCQE { return &r.cqes[i&r.cqMask] }

func (r *ring) consumed(head uint32) { atomic.StoreUint32(r.cqHead, head) }

// cancelAll queues the cancellation of every request in flight.
func (r *ring) cancelAll(userData uint64) error {
	e, err := r.sqe()
	if err != nil {
		return err
	}
	e.opcode, e.fd, e.opFlags, e.userData = uringOpAsyncCancel, -1, uringCancelAll|uringCancelAny, userData
	return nil
}

// close releases the ring: the kernel cancels what is still running and drops its
// references to the sockets. Unless idle (no request in flight), the buffers stay mapped:
// a receive the kernel has not cancelled yet may still write to them.
func (r *ring) close(idle bool) {
	if r.fd >= 0 {
		unix.Close(r.fd)
		r.fd = -1
	}
	maps := []*[]byte{&r.rings, &r.sqeMem}
	if idle {
		maps = append(maps, &r.bufRing, &r.bufMem)
	}
	for _, m := range maps {
		if *m != nil {
			_ = unix.Munmap(*m)
			*m = nil
		}
	}
}
