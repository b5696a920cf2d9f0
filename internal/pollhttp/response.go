package pollhttp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Limits on what a server may send before the body: beyond them it is not an HTTP server.
const (
	maxHeaderBytes = 1 << 20
	maxLineBytes   = 4 << 10
)

// errNoResponse is a connection that closed before the first byte of a response: on a
// connection kept alive from an earlier request, the server had closed it while idle.
var errNoResponse = errors.New("the server closed the connection before responding")

// state is where a response's parser stands.
type state uint8

const (
	stHeader     state = iota // status line and header fields
	stChunkSize               // a chunk-size line of a chunked body
	stChunkData               // inside a chunk
	stChunkEnd                // the CRLF after a chunk's data
	stTrailer                 // trailer fields after the last chunk
	stLength                  // a body of Content-Length bytes
	stUntilClose              // a body that ends when the connection does
	stDone
)

// sink receives what a response carries, as it is parsed.
type sink interface {
	header(status int, h http.Header)
	body(p []byte)
}

// response parses one HTTP/1.1 response pushed to it in pieces of any size: the header is
// parsed by net/http once complete; the body's framing (chunked, Content-Length, or until
// the connection closes) is undone here, so the sink gets the body's bytes as they arrive.
type response struct {
	st      state
	line    []byte // the header so far, then a partial chunk-size or trailer line
	left    int64  // bytes left in the current chunk or in a Content-Length body
	started bool   // a byte of the response has arrived
	close   bool   // the server will close the connection after this response
}

// feed parses b. It returns the bytes that follow the end of the response (a server that
// sends more than one response per request) and an error if the bytes are not HTTP.
func (r *response) feed(b []byte, s sink) ([]byte, error) {
	if len(b) > 0 {
		r.started = true
	}
	for len(b) > 0 && r.st != stDone {
		var err error
		switch r.st {
		case stHeader:
			b, err = r.header(b, s)
		case stChunkSize:
			b, err = r.chunkSize(b)
		case stChunkData, stLength:
			n := int(min(r.left, int64(len(b))))
			s.body(b[:n])
			b, r.left = b[n:], r.left-int64(n)
			if r.left == 0 && r.st == stChunkData {
				r.st = stChunkEnd
			} else if r.left == 0 {
				r.st = stDone
			}
		case stChunkEnd:
			b, err = r.chunkEnd(b)
		case stTrailer:
			b, err = r.trailer(b)
		case stUntilClose:
			s.body(b)
			b = nil
		}
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// eof is the connection's end: the end of a body that lasts until it, or an error.
func (r *response) eof() error {
	switch {
	case r.st == stDone || r.st == stUntilClose:
		r.st = stDone
		return nil
	case !r.started:
		return errNoResponse
	}
	return fmt.Errorf("the connection closed in the middle of the response: %w", io.ErrUnexpectedEOF)
}

func (r *response) done() bool { return r.st == stDone }

// header collects the header until its blank line and parses it.
func (r *response) header(b []byte, s sink) ([]byte, error) {
	from := max(len(r.line)-3, 0)
	r.line = append(r.line, b...)
	end := bytes.Index(r.line[from:], []byte("\r\n\r\n"))
	if end < 0 {
		if len(r.line) > maxHeaderBytes {
			return nil, fmt.Errorf("malformed HTTP response: no end of header in %d bytes", len(r.line))
		}
		return nil, nil
	}
	end += from + 4
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(r.line[:end])), nil)
	if err != nil {
		return nil, fmt.Errorf("malformed HTTP response: %w", err)
	}
	rest := append([]byte(nil), r.line[end:]...)
	r.line = r.line[:0]
	if resp.StatusCode >= 100 && resp.StatusCode < 200 {
		return rest, nil // 100 Continue and the like: the real response follows
	}
	r.close = resp.Close
	switch {
	case len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked":
		r.st = stChunkSize
	case resp.ContentLength > 0:
		r.st, r.left = stLength, resp.ContentLength
	case resp.ContentLength == 0 || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified:
		r.st = stDone
	default:
		r.st, r.close = stUntilClose, true
	}
	s.header(resp.StatusCode, resp.Header)
	return rest, nil
}

// nextLine cuts a line ended by LF (CR before it dropped) from what has been collected and b.
func (r *response) nextLine(b []byte) (line, rest []byte, ok bool, err error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		r.line = append(r.line, b...)
		if len(r.line) > maxLineBytes {
			return nil, nil, false, fmt.Errorf("malformed HTTP response: a chunk line of over %d bytes", maxLineBytes)
		}
		return nil, nil, false, nil
	}
	line = append(r.line, b[:i]...)
	r.line = r.line[:0]
	return bytes.TrimSuffix(line, []byte("\r")), b[i+1:], true, nil
}

func (r *response) chunkSize(b []byte) ([]byte, error) {
	line, rest, ok, err := r.nextLine(b)
	if !ok || err != nil {
		return rest, err
	}
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i] // chunk extensions
	}
	size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
	if err != nil || size < 0 {
		return nil, fmt.Errorf("malformed HTTP response: bad chunk size %q", truncate(line))
	}
	if size == 0 {
		r.st = stTrailer
	} else {
		r.st, r.left = stChunkData, size
	}
	return rest, nil
}

func (r *response) chunkEnd(b []byte) ([]byte, error) {
	line, rest, ok, err := r.nextLine(b)
	if !ok || err != nil {
		return rest, err
	}
	if len(line) > 0 {
		return nil, fmt.Errorf("malformed HTTP response: %q after a chunk's data, want CRLF", truncate(line))
	}
	r.st = stChunkSize
	return rest, nil
}

func (r *response) trailer(b []byte) ([]byte, error) {
	line, rest, ok, err := r.nextLine(b)
	if ok && len(line) == 0 {
		r.st = stDone
	}
	return rest, err
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
