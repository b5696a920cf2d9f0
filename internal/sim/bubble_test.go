package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/memnet"
)

// These tests run the server in a testing/synctest bubble: time is fake and only moves when
// every goroutine waits, so timings are exact and nothing depends on how loaded the machine
// is. Connections are in-memory pipes (synctest cannot wait on real sockets).

// newPipeListener is an in-memory listener: tests under testing/synctest cannot use TCP.
func newPipeListener() *memnet.Listener { return memnet.Listen() }

// bubble is a server inside a synctest bubble.
type bubble struct {
	srv    *Server
	client *http.Client
	cancel context.CancelFunc
	done   chan error
}

// startBubble serves cfg on a pipe listener; call inside synctest.Test, and stop before the
// bubble ends.
func startBubble(t *testing.T, cfg Config) *bubble {
	t.Helper()
	srv, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln := newPipeListener()
	ctx, cancel := context.WithCancel(context.Background())
	b := &bubble{srv: srv, cancel: cancel, done: make(chan error, 1),
		client: &http.Client{Transport: &http.Transport{DialContext: ln.Dial, MaxIdleConnsPerHost: 1000}}}
	go func() { b.done <- srv.Serve(ctx, ln) }()
	return b
}

// stop stops the server and returns Serve's error.
func (b *bubble) stop() error {
	b.cancel()
	err := <-b.done
	b.client.CloseIdleConnections()
	return err
}

func (b *bubble) do(t *testing.T, path string, body any, clientID string) (*http.Response, error) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, "http://sim"+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if clientID != "" {
		req.Header.Set("X-Request-Id", clientID)
	}
	return b.client.Do(req)
}

func (b *bubble) health(t *testing.T) int {
	t.Helper()
	resp, err := b.client.Get("http://sim/health")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// timedStream reads a stream and notes when each event arrived (fake time).
func timedStream(t *testing.T, resp *http.Response, err error) []sseEvent {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return readSSE(t, resp.Body)
}

func streamBody(maxTokens int) map[string]any {
	return map[string]any{"prompt": "hello world", "max_tokens": maxTokens, "stream": true, "ignore_eos": true,
		"stream_options": map[string]any{"include_usage": true}}
}

// readAllErr reads a body to its end and returns the read error (nil at a clean EOF).
func readAllErr(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(r)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return b, err
}

var _ = time.Second
