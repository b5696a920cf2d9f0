//go:build !linux

package pollhttp

import (
	"context"
	"errors"
)

// ErrClosed is the error of a request still running when its Client is closed.
var ErrClosed = errors.New("pollhttp: client closed")

// Client is not available on this system.
type Client struct{}

// New fails: the event loop needs Linux's epoll.
func New(Options) (*Client, error) {
	return nil, errors.New("pollhttp: the event-loop client runs on Linux only; use the default client")
}

// Do is never reached: New fails.
func (c *Client) Do(context.Context, Request, Handler) error {
	return errors.New("pollhttp: unsupported")
}

// Start is never reached: New fails.
func (c *Client) Start(_ context.Context, _ Request, _ Handler, done func(error)) {
	go done(errors.New("pollhttp: unsupported"))
}

// Close does nothing.
func (c *Client) Close() error { return nil }

// Receive is never reached: New fails.
func (c *Client) Receive() string { return "" }
