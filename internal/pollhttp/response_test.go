package pollhttp

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// collect is a sink that keeps what the parser gives it.
type collect struct {
	status  int
	headers int
	ctype   string
	got     bytes.Buffer
}

func (c *collect) header(status int, h http.Header) {
	c.status, c.ctype = status, h.Get("Content-Type")
	c.headers++
}
func (c *collect) body(p []byte) { c.got.Write(p) }

// parse feeds in to a response in pieces of size n (all at once if n is 0) and then, if eof,
// ends the connection.
func parse(in string, n int, eof bool) (*collect, *response, []byte, error) {
	var r response
	s := &collect{}
	b := []byte(in)
	var rest []byte
	for len(b) > 0 && !r.done() {
		k := len(b)
		if n > 0 {
			k = min(n, len(b))
		}
		var err error
		if rest, err = r.feed(b[:k], s); err != nil {
			return s, &r, nil, err
		}
		b = b[k:]
	}
	rest = append(rest, b...)
	if eof && !r.done() {
		return s, &r, rest, r.eof()
	}
	return s, &r, rest, nil
}

const sseHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"

func TestResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		eof    bool
		status int
		body   string
		close  bool
		rest   string
		err    string
	}{
		{name: "chunked", in: sseHead + "Transfer-Encoding: chunked\r\n\r\n9\r\ndata: a\n\n\r\n9\r\ndata: b\n\n\r\n0\r\n\r\n",
			status: 200, body: "data: a\n\ndata: b\n\n"},
		{name: "chunk extension and trailer", in: sseHead + "Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
			status: 200, body: "abc"},
		{name: "uppercase hex", in: sseHead + "Transfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", status: 200, body: "0123456789"},
		{name: "content length", in: "HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nhello", status: 400, body: "hello"},
		{name: "what follows the response", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1", status: 200, body: "hi", rest: "HTTP/1.1"},
		{name: "no body", in: "HTTP/1.1 204 No Content\r\n\r\n", status: 204},
		{name: "until close", in: sseHead + "\r\ndata: a\n\n", eof: true, status: 200, body: "data: a\n\n", close: true},
		{name: "connection close", in: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", status: 200, body: "x", close: true},
		{name: "100 continue first", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", status: 200, body: "x"},
		{name: "not http", in: "hello world\r\n\r\n", err: "malformed HTTP response"},
		{name: "bad chunk size", in: sseHead + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", status: 200, err: "bad chunk size"},
		{name: "no CRLF after chunk", in: sseHead + "Transfer-Encoding: chunked\r\n\r\n1\r\naXX\r\n", status: 200, body: "a", err: "after a chunk's data"},
		{name: "cut mid-chunk", in: sseHead + "Transfer-Encoding: chunked\r\n\r\n9\r\ndata:", eof: true, status: 200, body: "data:", err: "unexpected EOF"},
		{name: "cut in header", in: "HTTP/1.1 200 OK\r\nContent-", eof: true, err: "unexpected EOF"},
		{name: "closed before responding", in: "", eof: true, err: errNoResponse.Error()},
	}
	for _, tt := range tests {
		for _, n := range []int{0, 1, 2, 7} {
			t.Run(fmt.Sprintf("%s/pieces=%d", tt.name, n), func(t *testing.T) {
				t.Parallel()
				s, r, rest, err := parse(tt.in, n, tt.eof)
				if tt.err != "" {
					if err == nil || !strings.Contains(err.Error(), tt.err) {
						t.Fatalf("error %v, want %q", err, tt.err)
					}
				} else if err != nil {
					t.Fatal(err)
				}
				if s.status != tt.status || s.got.String() != tt.body || (tt.err == "" && s.headers != 1) {
					t.Errorf("status %d body %q (%d headers), want %d %q", s.status, s.got.String(), s.headers, tt.status, tt.body)
				}
				if tt.err == "" && (!r.done() || r.close != tt.close || string(rest) != tt.rest) {
					t.Errorf("done %v close %v rest %q, want done, close %v, rest %q", r.done(), r.close, rest, tt.close, tt.rest)
				}
			})
		}
	}
}

func TestResponseLimits(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"endless header":     "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxHeaderBytes+10),
		"endless chunk line": sseHead + "Transfer-Encoding: chunked\r\n\r\n" + strings.Repeat("1", maxLineBytes+10),
	} {
		if _, _, _, err := parse(in, 1000, false); err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("%s: error %v, want malformed", name, err)
		}
	}
}

// chunked frames body as chunks of the given sizes.
func chunked(body []byte, sizes []byte) string {
	var b strings.Builder
	b.WriteString(sseHead + "Transfer-Encoding: chunked\r\n\r\n")
	for i := 0; len(body) > 0; i++ {
		n := len(body)
		if len(sizes) > 0 {
			n = min(n, int(sizes[i%len(sizes)])+1)
		}
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

// FuzzResponse: any bytes give a body or an error, never a panic; a chunked body split into
// any chunks and fed in any pieces comes back whole.
//
//	go test ./internal/pollhttp -run '^$' -fuzz FuzzResponse -fuzztime 60s
func FuzzResponse(f *testing.F) {
	f.Add([]byte("data: a\n\n"), []byte{3, 1}, uint8(1))
	f.Add([]byte(sseHead+"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), []byte{}, uint8(0))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), []byte{0}, uint8(2))
	f.Fuzz(func(t *testing.T, data, sizes []byte, piece uint8) {
		_, _, _, _ = parse(string(data), int(piece), true) // raw bytes as a response: no panic

		s, _, _, err := parse(chunked(data, sizes), int(piece), true)
		if err != nil || !bytes.Equal(s.got.Bytes(), data) {
			t.Fatalf("chunked body came back as %q, %v; want %q", s.got.Bytes(), err, data)
		}
	})
}
