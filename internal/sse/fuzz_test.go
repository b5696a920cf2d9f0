package sse

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// FuzzReader checks that any bytes give events or an error, never a panic or a hang, and that
// the events do not depend on how the bytes are split into reads.
//
//	go test ./internal/sse -run '^$' -fuzz FuzzReader -fuzztime 60s
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/sse/*.txt")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("data: a\r"))
	f.Add([]byte("\xEF\xBB"))
	f.Add([]byte("error: x\ndata: y\n\n"))
	bufs := NewBuffers(16)
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 256
		opts := Options{BufferSize: 16, MaxEventBytes: max}
		whole, errWhole := readAll(NewReaderOptions(bytes.NewReader(data), opts))
		bytewise, errBytes := readAll(NewReaderOptions(iotest.OneByteReader(bytes.NewReader(data)), opts))
		if errWhole == nil || errBytes == nil {
			t.Fatal("readAll returned no error")
		}
		if !errors.Is(errWhole, io.EOF) && !errors.Is(errWhole, ErrTooLong) {
			t.Fatalf("unexpected error %v", errWhole)
		}
		for _, ev := range whole {
			if len(ev.Data) > max {
				t.Fatalf("event of %d bytes, limit %d", len(ev.Data), max)
			}
		}
		if errors.Is(errWhole, ErrTooLong) != errors.Is(errBytes, ErrTooLong) {
			// Where the limit trips may differ with read sizes; the events before it must not.
			return
		}
		if diff := cmp.Diff(whole, bytewise); diff != "" {
			t.Fatalf("events differ between one read and byte-by-byte reads (-whole +bytewise):\n%s", diff)
		}
		pushed, _ := readPushed(NewReaderOptions(&pushedReader{r: bytes.NewReader(data)}, opts))
		if diff := cmp.Diff(whole, pushed); diff != "" {
			t.Fatalf("events differ between one read and pushed bytes (-whole +pushed):\n%s", diff)
		}
		lent, _ := readPushed(NewReaderOptions(&pushedReader{r: bytes.NewReader(data)}, Options{Buffers: bufs, MaxEventBytes: max}))
		if diff := cmp.Diff(whole, lent); diff != "" {
			t.Fatalf("events differ between one read and pushed bytes with lent buffers (-whole +lent):\n%s", diff)
		}
	})
}
