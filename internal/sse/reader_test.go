package sse

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

type got struct {
	Type, Data, ID string
}

// readAll drains r and returns the events and the final error.
func readAll(r *Reader) ([]got, error) {
	var out []got
	for {
		ev, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, got{Type: ev.Type, Data: string(ev.Data), ID: ev.ID})
	}
}

// readPushed drains r as an event loop does: ErrMore means "come back with more bytes".
func readPushed(r *Reader) ([]got, error) {
	var out []got
	for {
		ev, err := r.Next()
		if errors.Is(err, ErrMore) {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, got{Type: ev.Type, Data: string(ev.Data), ID: ev.ID})
	}
}

// pushedReader hands over one byte at a time, saying ErrMore before each: an event loop that
// is given the stream a byte per read.
type pushedReader struct {
	r    io.Reader
	more bool
}

func (p *pushedReader) Read(b []byte) (int, error) {
	if p.more = !p.more; p.more {
		return 0, ErrMore
	}
	return p.r.Read(b[:1])
}

func TestReader(t *testing.T) {
	t.Parallel()
	bufs := NewBuffers(16) // shared by every case, as by a run's streams; lines of up to 2 bytes set aside
	tests := []struct {
		name string
		in   string
		want []got
	}{
		{"lf", "data: a\n\ndata: b\n\n", []got{{Data: "a"}, {Data: "b"}}},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []got{{Data: "a"}, {Data: "b"}}},
		{"lone cr", "data: a\r\rdata: b\r\r", []got{{Data: "a"}, {Data: "b"}}},
		{"no space after colon", "data:a\n\n", []got{{Data: "a"}}},
		{"only one space stripped", "data:  a\n\n", []got{{Data: " a"}}},
		{"multi-line data", "data: a\ndata: b\n\n", []got{{Data: "a\nb"}}},
		{"empty data line", "data\n\n", []got{{Data: ""}}},
		{"comments are keep-alives", ": ping\n\n:\ndata: x\n\n", []got{{Data: "x"}}},
		{"event type", "event: usage\ndata: {}\n\n", []got{{Type: "usage", Data: "{}"}}},
		{"type resets per event", "event: a\ndata: 1\n\ndata: 2\n\n", []got{{Type: "a", Data: "1"}, {Data: "2"}}},
		{"event without data is not dispatched", "event: ping\n\ndata: x\n\n", []got{{Data: "x"}}},
		{"id persists", "id: 7\ndata: a\n\ndata: b\n\n", []got{{ID: "7", Data: "a"}, {ID: "7", Data: "b"}}},
		{"id with NUL ignored", "id: a\x00b\ndata: a\n\n", []got{{Data: "a"}}},
		{"retry ignored", "retry: 100\ndata: a\n\n", []got{{Data: "a"}}},
		{"unknown field ignored", "foo: bar\ndata: a\n\n", []got{{Data: "a"}}},
		{"bom", "\xEF\xBB\xBFdata: a\n\n", []got{{Data: "a"}}},
		{"last event without blank line", "data: a\n\ndata: b\n", []got{{Data: "a"}, {Data: "b"}}},
		{"incomplete last line dropped", "data: a\n\ndata: b", []got{{Data: "a"}}},
		{"llama.cpp error line", "data: a\n\nerror: {\"message\":\"x\"}\n\n", []got{{Data: "a"}, {Type: "error", Data: `{"message":"x"}`}}},
		{"done marker is data", "data: [DONE]\n\n", []got{{Data: "[DONE]"}}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, mode := range []struct {
				name string
				r    func(io.Reader) io.Reader
			}{{"whole", func(r io.Reader) io.Reader { return r }}, {"byte by byte", iotest.OneByteReader},
				{"half", iotest.HalfReader}, {"data and EOF together", iotest.DataErrReader}} {
				evs, err := readAll(NewReaderOptions(mode.r(strings.NewReader(tt.in)), Options{BufferSize: 4}))
				if !errors.Is(err, io.EOF) {
					t.Fatalf("%s: %q: final error %v, want io.EOF", mode.name, tt.in, err)
				}
				if diff := cmp.Diff(tt.want, evs); diff != "" {
					t.Errorf("%s: %q (-want +got):\n%s", mode.name, tt.in, diff)
				}
			}
			evs, err := readPushed(NewReaderOptions(&pushedReader{r: strings.NewReader(tt.in)}, Options{BufferSize: 4}))
			if !errors.Is(err, io.EOF) {
				t.Fatalf("pushed: %q: final error %v, want io.EOF", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, evs); diff != "" {
				t.Errorf("pushed: %q (-want +got):\n%s", tt.in, diff)
			}
			evs, err = readPushed(NewReaderOptions(&pushedReader{r: strings.NewReader(tt.in)}, Options{Buffers: bufs}))
			if !errors.Is(err, io.EOF) {
				t.Fatalf("pushed, lent buffers: %q: final error %v, want io.EOF", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, evs); diff != "" {
				t.Errorf("pushed, lent buffers: %q (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestReaderLendsBuffer: with Options.Buffers a reader holds its read buffer only while it
// has more than an eighth of it unread (the start of a long line); waiting for the next read
// (ErrMore) it holds none, the start of a short line set aside.
func TestReaderLendsBuffer(t *testing.T) {
	t.Parallel()
	feed := &pushed{}
	r := NewReaderOptions(feed, Options{Buffers: NewBuffers(64)})
	long := strings.Repeat("x", 100)
	tests := []struct {
		in       string
		want     []got
		bufBytes int // the buffer held after the ErrMore that ends the bytes; 0: none
	}{
		{"data: a\n\n", []got{{Data: "a"}}, 0},
		{"data: b", nil, 0},                                          // 7 bytes set aside
		{"c\n\ndata: {\"long\": \"line\"}", []got{{Data: "bc"}}, 64}, // 22 bytes: more than 64/8
		{"\n\n", []got{{Data: `{"long": "line"}`}}, 0},
		{"data: " + long, nil, 128},                              // grown past 64
		{"\n\ndata: d\n\n", []got{{Data: long}, {Data: "d"}}, 0}, // the grown buffer is dropped
		{"\xEF\xBB", nil, 0},
	}
	for _, tt := range tests {
		feed.p = []byte(tt.in)
		evs, err := readAll(r) // up to the ErrMore that ends the bytes
		if !errors.Is(err, ErrMore) {
			t.Fatalf("%q: error %v, want ErrMore", tt.in, err)
		}
		if diff := cmp.Diff(tt.want, evs); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.in, diff)
		}
		if len(r.buf) != tt.bufBytes {
			t.Errorf("after %q: holds a buffer of %d bytes, want %d", tt.in, len(r.buf), tt.bufBytes)
		}
	}
}

// pushed is an event loop's source: the bytes of the last read, then ErrMore.
type pushed struct{ p []byte }

func (s *pushed) Read(b []byte) (int, error) {
	if len(s.p) == 0 {
		return 0, ErrMore
	}
	n := copy(b, s.p)
	s.p = s.p[n:]
	return n, nil
}

func TestReaderCountsCommentsAndUnknown(t *testing.T) {
	t.Parallel()
	r := NewReader(strings.NewReader(": ping\n\n<html>\ndata: a\n\n: ping\n"))
	if _, err := readAll(r); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if r.Comments() != 2 || r.Unknown() != 1 {
		t.Fatalf("comments %d unknown %d, want 2 and 1", r.Comments(), r.Unknown())
	}
}

func TestReaderReset(t *testing.T) {
	t.Parallel()
	r := NewReader(strings.NewReader("id: 1\n: c\ndata: a\n\ndata: partial"))
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	r.Reset(strings.NewReader("data: b\n\n"))
	evs, err := readAll(r)
	if !errors.Is(err, io.EOF) || len(evs) != 1 || evs[0] != (got{Data: "b"}) || r.Comments() != 0 {
		t.Fatalf("after Reset: %v, %v, %d comments; want one event b with no id", evs, err, r.Comments())
	}
}

func TestReaderTooLong(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"line":  strings.Repeat("x", 100),
		"event": strings.Repeat("data: 0123456789\n", 20),
	} {
		r := NewReaderOptions(strings.NewReader(in), Options{BufferSize: 8, MaxEventBytes: 64})
		if _, err := readAll(r); !errors.Is(err, ErrTooLong) {
			t.Errorf("%s: error %v, want ErrTooLong", name, err)
		}
	}
}

func TestReaderPassesReadErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	r := NewReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom)))
	evs, err := readAll(r)
	if !errors.Is(err, boom) || len(evs) != 1 {
		t.Fatalf("events %v error %v, want one event and the read error", evs, err)
	}
}

func TestReaderNoProgress(t *testing.T) {
	t.Parallel()
	r := NewReader(zeroReader{})
	if _, err := r.Next(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("error %v, want io.ErrNoProgress", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// TestTestdataStreams reads every recorded-style stream and checks the events each gives.
func TestTestdataStreams(t *testing.T) {
	t.Parallel()
	want := map[string]struct{ events, comments, unknown int }{
		"vllm_completions.txt":          {10, 0, 0},
		"vllm_chat.txt":                 {12, 0, 0},
		"vllm_stream_interval.txt":      {5, 0, 0},
		"vllm_error.txt":                {5, 0, 0},
		"sglang_completions.txt":        {10, 0, 0},
		"sglang_chat.txt":               {12, 0, 0},
		"llamacpp_chat.txt":             {11, 0, 0},
		"llamacpp_error.txt":            {2, 0, 0},
		"llamacpp_real_completions.txt": {10, 0, 0}, // recorded (scripts/llamacpp/capture.sh)
		"llamacpp_real_chat.txt":        {12, 0, 0},
		"keepalive_crlf.txt":            {9, 2, 0},
		"no_done.txt":                   {8, 0, 0},
		"garbage.txt":                   {0, 0, 7},
		"standard.txt":                  {3, 1, 0},
	}
	files, err := filepath.Glob("../../testdata/sse/*.txt")
	if err != nil || len(files) != len(want) {
		t.Fatalf("testdata streams: %v (%d files, want %d)", err, len(files), len(want))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := NewReader(strings.NewReader(string(data)))
		evs, err := readAll(r)
		w := want[filepath.Base(f)]
		if !errors.Is(err, io.EOF) || len(evs) != w.events || r.Comments() != w.comments || r.Unknown() != w.unknown {
			t.Errorf("%s: %d events, %d comments, %d unknown, err %v; want %d, %d, %d, io.EOF",
				filepath.Base(f), len(evs), r.Comments(), r.Unknown(), err, w.events, w.comments, w.unknown)
		}
	}
}

// TestResetGivesBufferBack: a reader that stopped holding its lent buffer (the stream ended
// without an ErrMore) gives it back on Reset, and reads the next stream with another.
func TestResetGivesBufferBack(t *testing.T) {
	t.Parallel()
	r := NewReaderOptions(strings.NewReader("data: a\n\ndata: b\n\n"), Options{Buffers: NewBuffers(64)})
	if ev, err := r.Next(); err != nil || string(ev.Data) != "a" || r.buf == nil {
		t.Fatalf("%q %v, holding %d bytes; want a, a buffer held", ev.Data, err, len(r.buf))
	}
	r.Reset(strings.NewReader("data: c\n\n"))
	if r.buf != nil {
		t.Fatalf("holds a buffer of %d bytes after Reset; want none", len(r.buf))
	}
	if ev, err := r.Next(); err != nil || string(ev.Data) != "c" {
		t.Fatalf("after Reset: %q %v", ev.Data, err)
	}
}
