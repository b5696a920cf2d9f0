package stats

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// gapStore keeps the chunk gaps (ITL) of a run's measured requests in a temporary file
// instead of memory. They are the only per-request data that grows with the answer (8 bytes
// a token), so a long run with thousands of users would otherwise grow without bound; the
// summary reads them back once at the end, a second pass that keeps the percentiles exact.
type gapStore struct {
	spillFile
	enc []byte // add's scratch: binary.Write would allocate for every list
}

// spillFile is a temporary file that records are appended to, buffered, as a run goes, and
// read back in order at its end. A failed write is kept and returned by every read.
type spillFile struct {
	f   *os.File
	w   *bufio.Writer
	err error
}

// newSpillFile starts the file in dir ("" is the system's temporary folder); the file is
// unlinked at once where the system allows, so nothing is left behind even by a crash.
func newSpillFile(dir, name string) (spillFile, error) {
	f, err := os.CreateTemp(dir, ".llmscale-"+name+"-*")
	if err != nil {
		return spillFile{}, err
	}
	_ = os.Remove(f.Name()) // some systems cannot remove an open file: close removes it then
	return spillFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (s *spillFile) write(b []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(b)
	}
}

// reader flushes what was written and reads the file from its start, leaving it as it was:
// it may be called any number of times.
func (s *spillFile) reader() (*bufio.Reader, error) {
	if s.err != nil {
		return nil, s.err
	}
	if err := s.w.Flush(); err != nil {
		s.err = err
		return nil, err
	}
	return bufio.NewReaderSize(io.NewSectionReader(s.f, 0, math.MaxInt64), 64<<10), nil
}

// records reads the file back from its start, one record at a time until its end: len(head)
// bytes of each into head, then visit, which may read the rest of the record from r. Its
// errors, and the file's, are prefixed with what.
func (s *spillFile) records(what string, head []byte, visit func(r io.Reader) error) error {
	r, err := s.reader()
	for err == nil {
		if _, err = io.ReadFull(r, head); errors.Is(err, io.EOF) {
			return nil
		} else if err == nil {
			err = visit(r)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// close removes the file.
func (s *spillFile) close() {
	name := s.f.Name()
	s.f.Close()
	os.Remove(name)
}

func newGapStore(dir string) (*gapStore, error) {
	f, err := newSpillFile(dir, "gaps")
	if err != nil {
		return nil, fmt.Errorf("chunk gap store: %w", err)
	}
	return &gapStore{spillFile: f}, nil
}

// add appends one response: its end offset, the lengths of its lists, then its gaps, its
// tokens per chunk and vLLM's gaps.
func (g *gapStore) add(m memGap) {
	if g.err != nil {
		return
	}
	b := g.enc[:0]
	for _, x := range [4]int64{m.end, int64(len(m.itl)), int64(len(m.chunkTokens)), int64(len(m.vll))} {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	for _, x := range m.itl {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	for _, x := range m.chunkTokens {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	for _, x := range m.vll {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	g.write(b)
	g.enc = b
}

// maxGapList bounds a list's length read back: more is a corrupted file, not a response.
const maxGapList = 1 << 30

// each reads every response back, in the order they were added, reusing its buffers (visit
// must not keep them). It may be called any number of times; it leaves the file as it was.
func (g *gapStore) each(visit func(memGap)) error {
	var m memGap
	var hdr []int64
	var buf []byte
	head := make([]byte, 32) // one allocation: binary.Read would make two a record
	return g.records("chunk gap store", head, func(r io.Reader) error {
		hdr, _ = decode64(hdr, head, 4)
		if min(hdr[1], hdr[2], hdr[3]) < 0 || max(hdr[1], hdr[2], hdr[3]) > maxGapList {
			return fmt.Errorf("corrupted record (lists of %d, %d, %d)", hdr[1], hdr[2], hdr[3])
		}
		buf = resize(buf, 8*hdr[1]+4*hdr[2]+8*hdr[3])
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		rest := buf
		m.end = hdr[0]
		m.itl, rest = decode64(m.itl, rest, hdr[1])
		m.chunkTokens, rest = decode32(m.chunkTokens, rest, hdr[2])
		m.vll, _ = decode64(m.vll, rest, hdr[3])
		visit(m)
		return nil
	})
}

// decode64 decodes n little-endian int64s from the front of b into s (reused), and returns
// the rest of b.
func decode64(s []int64, b []byte, n int64) ([]int64, []byte) {
	s = resize(s, n)
	for i := range s {
		s[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return s, b[8*n:]
}

func decode32(s []int32, b []byte, n int64) ([]int32, []byte) {
	s = resize(s, n)
	for i := range s {
		s[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return s, b[4*n:]
}

func resize[T any](s []T, n int64) []T {
	if int64(cap(s)) >= n {
		return s[:n]
	}
	return make([]T, n)
}
