//go:build linux

package pollhttp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestURingProbe says what this machine's kernel allows, and checks that auto follows it.
func TestURingProbe(t *testing.T) {
	var u unix.Utsname
	_ = unix.Uname(&u)
	disabled, _ := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
	c, err := New(Options{Receive: ReceiveAuto})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ring, uerr := New(Options{Receive: ReceiveIOURing})
	if uerr == nil {
		ring.Close()
	}
	t.Logf("kernel %s, io_uring_disabled %q, auto chose %s, io_uring: %v",
		unix.ByteSliceToString(u.Release[:]), strings.TrimSpace(string(disabled)), c.Receive(), uerr)
	if want := map[bool]string{true: ReceiveIOURing, false: ReceiveEpoll}[uerr == nil]; c.Receive() != want {
		t.Errorf("auto chose %s, want %s (io_uring: %v)", c.Receive(), want, uerr)
	}
	plain, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if plain.Receive() != ReceiveEpoll {
		t.Errorf("the zero Options chose %s, want epoll", plain.Receive())
	}
	if _, err := New(Options{Receive: "kqueue"}); err == nil || !strings.Contains(err.Error(), `"kqueue"`) {
		t.Errorf("an unknown receive path: %v, want it refused by name", err)
	}
}

// newTestRing makes an io_uring client with bufs provided buffers of size bytes.
func newTestRing(t *testing.T, bufs, size int) *counted {
	t.Helper()
	skipWithoutURing(t)
	return newCounted(t, Options{Receive: ReceiveIOURing, ringBufs: bufs, ringBufSize: size})
}

// TestURingBufferExhaustion: with two 64-byte buffers for eight streams, receives keep
// ending on ENOBUFS; each is armed again once buffers come back, and no byte is lost.
func TestURingBufferExhaustion(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("0123456789abcdef", 1024) // 16 KiB: 256 buffers' worth per stream
	addr, _ := rawServer(t, func(conn net.Conn, br *bufio.Reader) {
		for readRequest(t, br) {
			fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body))
			for i := 0; i < len(body); i += 4096 {
				io.WriteString(conn, body[i:i+4096])
			}
		}
	})
	c := newTestRing(t, 2, 64)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second) // a receive never armed again stalls its stream
	defer cancel()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 2 {
				rec := &recorder{}
				if err := c.Do(ctx, post(addr, "/", "x"), rec); err != nil || rec.body.String() != body {
					t.Errorf("stream %d request %d: %v, %d bytes of %d", i, j, err, rec.body.Len(), len(body))
				}
			}
		})
	}
	wg.Wait()
	c.Close()
	if c.uring.rearms == 0 {
		t.Error("no receive was armed again: the buffers never ran out")
	}
	if c.opened.Load() > 8 {
		t.Errorf("%d connections opened for 8 streams, want each reused after its receive was cancelled", c.opened.Load())
	}
}

// TestURingBytesAfterResponse: bytes a server sends after the response reach the
// cancelled receive (or the idle socket): the connection is not reused for the next request.
func TestURingBytesAfterResponse(t *testing.T) {
	t.Parallel()
	stale := make(chan struct{}, 8) // the next request goes out once the stray bytes are written
	addr, conns := rawServer(t, func(conn net.Conn, br *bufio.Reader) {
		for readRequest(t, br) {
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			time.Sleep(5 * time.Millisecond)
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")
			stale <- struct{}{}
		}
	})
	c := newTestRing(t, 4, 4096)
	for i := range 3 {
		rec := &recorder{}
		if err := c.Do(t.Context(), post(addr, "/", "x"), rec); err != nil || rec.body.String() != "ok" {
			t.Fatalf("request %d: %v %q; want each answered by its own response (%d connections)", i, err, rec.body.String(), conns.Load())
		}
		<-stale
		time.Sleep(time.Millisecond) // over loopback
	}
	if conns.Load() != 3 {
		t.Errorf("%d connections; want a new one for each request", conns.Load())
	}
}

// TestURingCloseWhileStreaming: Close with many streams mid-response fails them all,
// closes every socket, and sees every receive end before the buffers are unmapped.
func TestURingCloseWhileStreaming(t *testing.T) {
	t.Parallel()
	addr := stallingServer(t)
	c := newTestRing(t, 16, 1024)
	const streams = 64
	errs := make(chan error, streams)
	for range streams {
		go func() { errs <- c.Do(context.Background(), post(addr, "/", "x"), &recorder{}) }()
	}
	for deadline := time.Now().Add(10 * time.Second); c.open.Load() < streams && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the first events come in
	c.Close()
	for range streams {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("error %v, want ErrClosed", err)
		}
	}
	if c.open.Load() != 0 || len(c.uring.recvs) != 0 || c.ring.bufMem != nil {
		t.Errorf("after Close: %d sockets open, %d receives in flight, buffers mapped %v", c.open.Load(), len(c.uring.recvs), c.ring.bufMem != nil)
	}
}
