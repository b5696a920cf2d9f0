package stats

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// gapStore keeps the chunk gaps (ITL) of a run's measured requests in a temporary file
// instead of memory. They are the only per-request data that grows with the answer (8 bytes
// a token), so a long run with thousands of users would otherwise grow without bound; the
// summary reads them back once at the end, a second pass that keeps the percentiles exact.
type gapStore struct {
	f   *os.File
	w   *bufio.Writer
	err error
}

// newGapStore starts the file in dir ("" is the system's temporary folder); the file is
// unlinked at once where the system allows, so nothing is left behind even by a crash.
func newGapStore(dir string) (*gapStore, error) {
	f, err := os.CreateTemp(dir, ".llmscale-gaps-*")
	if err != nil {
		return nil, fmt.Errorf("chunk gap store: %w", err)
	}
	_ = os.Remove(f.Name()) // some systems cannot remove an open file: close removes it then
	return &gapStore{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// add appends one response: its end offset, then its gaps and its tokens per chunk.
func (g *gapStore) add(end int64, itl []int64, chunkTokens []int32) {
	if g.err != nil {
		return
	}
	hdr := [3]int64{end, int64(len(itl)), int64(len(chunkTokens))}
	g.err = errors.Join(binary.Write(g.w, binary.LittleEndian, hdr[:]),
		binary.Write(g.w, binary.LittleEndian, itl), binary.Write(g.w, binary.LittleEndian, chunkTokens))
}

// each reads every response back, in the order they were added, reusing its buffers.
func (g *gapStore) each(visit func(end int64, itl []int64, chunkTokens []int32)) error {
	if g.err != nil {
		return g.err
	}
	if err := g.w.Flush(); err != nil {
		return err
	}
	if _, err := g.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	r := bufio.NewReaderSize(g.f, 64<<10)
	var itl []int64
	var tokens []int32
	for {
		var hdr [3]int64
		if err := binary.Read(r, binary.LittleEndian, hdr[:]); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		itl, tokens = resize(itl, hdr[1]), resize(tokens, hdr[2])
		if err := errors.Join(binary.Read(r, binary.LittleEndian, itl), binary.Read(r, binary.LittleEndian, tokens)); err != nil {
			return err
		}
		visit(hdr[0], itl, tokens)
	}
}

func resize[T any](s []T, n int64) []T {
	if int64(cap(s)) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// close removes the file.
func (g *gapStore) close() {
	name := g.f.Name()
	g.f.Close()
	os.Remove(name)
}
