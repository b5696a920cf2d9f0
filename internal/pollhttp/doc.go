// Package pollhttp is an HTTP/1.1 client for many long streaming responses at once: one
// goroutine waits on every connection with epoll and hands each read's bytes, with the time
// the read returned, to the request's Handler. Go's net/http reads each response on its own
// goroutine, which costs a goroutine switch and a second read system call (the one that finds
// the socket empty before the goroutine parks) per chunk; at a thousand streams of a hundred
// chunks a second on one core, that queueing is what makes a client's timestamps late. Here a
// level-triggered epoll set is drained in one pass, each ready socket read once.
//
// It speaks plain HTTP/1.1 over TCP (no TLS, no HTTP/2, no proxies): what a load generator
// needs against an inference server on its own network. Connections are kept alive and reused
// per address. Linux only; New fails elsewhere.
//
// Options.Receive can have the loop receive through io_uring instead of epoll (Linux 6.0 or
// later): one multishot receive per socket fills buffers the client provides and reads cost
// no system call. Measured, it costs more CPU per token than epoll's read per ready socket
// (docs/performance.md), so epoll stays the default.
//
// Start sends a request and returns without waiting for the response: no goroutine is held
// while a response streams, and the caller learns of its end through a callback. Do is Start
// and a wait.
package pollhttp

import (
	"context"
	"net"
	"net/http"
	"time"
)

// Receive paths: how the event loop learns that sockets have data and reads it.
const (
	// ReceiveEpoll waits in epoll and reads each ready socket with its own system call: the
	// default (the zero value), measured cheaper per token than io_uring
	// (docs/performance.md).
	ReceiveEpoll = "epoll"
	// ReceiveAuto is io_uring where the kernel allows it (Linux 6.0 or later, not disabled
	// nor filtered by seccomp), epoll otherwise.
	ReceiveAuto = "auto"
	// ReceiveIOURing keeps one multishot receive per socket in an io_uring: the kernel fills
	// buffers the client provides and the loop takes their completions from shared memory,
	// with no system call per read. New fails where the kernel refuses it.
	ReceiveIOURing = "io_uring"
)

// Handler receives one response. Its methods run on the client's event loop: they must not
// block, and they see the bytes only until they return.
type Handler interface {
	// Header is called once, with the status code and header fields.
	Header(status int, h http.Header)
	// Body is called with the body's bytes (framing removed) as each read returns them, and
	// at, the time that read returned. Returning false stops the calls; the rest of the body
	// is still read so the connection can be reused.
	Body(p []byte, at time.Time) bool
}

// Request is one request to send.
type Request struct {
	Addr string // host:port to connect to
	Data []byte // the request: request line, header fields, blank line and body, or its start
	// Body, when set, is written after Data (with Data in one writev): a body shared by many
	// requests is then not copied into each.
	Body []byte
	// Connected, when set, is called (on the goroutine that called Do or Start) once the
	// request has a connection, before it is written: reused tells a kept-alive one from a
	// new dial.
	Connected func(reused bool)
	// Wrote, when set, is called once the whole request has been written to the socket
	// (before Do returns, or Start's done is called): a deadline that passes before it never
	// reached the server.
	Wrote func()
}

// Options configure a Client; the zero value is usable.
type Options struct {
	// Dial opens TCP connections; default a net.Dialer with a 30 s timeout. It must return a
	// *net.TCPConn (or another conn with a socket behind SyscallConn).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// OnOpen and OnClose are called as connections are opened and closed (for counting).
	OnOpen, OnClose func()
	// MaxIdlePerAddr bounds the connections kept alive per address; default 65,536.
	MaxIdlePerAddr int
	// Receive is the receive path: ReceiveEpoll (also ""), ReceiveIOURing or ReceiveAuto;
	// the one chosen is Client.Receive.
	Receive string

	// io_uring's provided buffers: how many (a power of two) and their size; tests make
	// them few to run out. Defaults 1,024 and 4 KiB.
	ringBufs, ringBufSize int
}
