package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testServer is a simulator serving on a real loopback listener.
type testServer struct {
	*Server
	URL    string
	client *http.Client
	stop   func() error
}

// startServer serves cfg on 127.0.0.1; it stops when the test ends.
func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	if cfg.Version == "" {
		cfg.Version = "test"
	}
	srv, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var stopErr error
	stopped := false
	ts := &testServer{Server: srv, URL: "http://" + ln.Addr().String(),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}}
	ts.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			stopErr = <-done
			ts.client.CloseIdleConnections()
		}
		return stopErr
	}
	t.Cleanup(func() {
		if err := ts.stop(); err != nil && !errors.Is(err, ErrCrashed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

func (ts *testServer) post(t *testing.T, path string, body any) *http.Response {
	t.Helper()
	return ts.postHeader(t, path, body, nil)
}

func (ts *testServer) postHeader(t *testing.T, path string, body any, h http.Header) *http.Response {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, ts.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

func (ts *testServer) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	resp, err := ts.client.Get(ts.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// chunk is the union of the completions and chat chunk fields the tests read.
type chunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Index        int     `json:"index"`
		Text         *string `json:"text"`
		FinishReason *string `json:"finish_reason"`
		Delta        *struct {
			Role    *string `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *usageJSON `json:"usage"`
}

// sseEvent is one data: payload and when it was read.
type sseEvent struct {
	data string
	at   time.Time
}

// readSSE reads a stream's data: payloads up to and including [DONE]; it fails on anything
// that is not a data line or a blank line.
func readSSE(t *testing.T, r io.Reader) []sseEvent {
	t.Helper()
	var out []sseEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("stream line %q is not a data line", line)
		}
		out = append(out, sseEvent{data: data, at: time.Now()})
		if data == "[DONE]" {
			return out
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read stream: %v", err)
	}
	t.Fatalf("stream ended without [DONE] after %d events", len(out))
	return nil
}

func parseChunk(t *testing.T, data string) chunk {
	t.Helper()
	var c chunk
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		t.Fatalf("chunk %q: %v", data, err)
	}
	return c
}

// streamed is what a client got from one streamed response.
type streamed struct {
	text     string
	chunks   int // content chunks
	finish   string
	usage    *usageJSON
	roleSeen bool
}

// collect reads a whole streamed response.
func collect(t *testing.T, resp *http.Response) streamed {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var s streamed
	for _, ev := range readSSE(t, resp.Body) {
		if ev.data == "[DONE]" {
			break
		}
		c := parseChunk(t, ev.data)
		if len(c.Choices) == 0 {
			s.usage = c.Usage
			continue
		}
		ch := c.Choices[0]
		switch {
		case ch.Text != nil:
			s.text += *ch.Text
		case ch.Delta != nil && ch.Delta.Role != nil:
			s.roleSeen = true
			if s.chunks > 0 || ch.Delta.Content == nil || *ch.Delta.Content != "" {
				t.Errorf("role delta %q is not the first chunk with empty content", ev.data)
			}
			continue
		case ch.Delta != nil && ch.Delta.Content != nil:
			s.text += *ch.Delta.Content
		}
		s.chunks++
		if ch.FinishReason != nil {
			s.finish = *ch.FinishReason
		}
	}
	return s
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
