// Package sse reads Server-Sent Events (the text/event-stream format of the WHATWG HTML
// standard) as LLM servers stream them: data lines, comments used as keep-alives, event
// types, ids, and lines ended by LF, CRLF or a lone CR. It is tiny, allocation-free per event
// once warmed up, fuzzed, and knows nothing of what the data means.
package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Event is one dispatched event. Data and Type are valid until the next call to Next.
type Event struct {
	// Type is the event type from "event:" lines; "" means the default type, "message".
	Type string
	// Data is the event's data lines joined by "\n".
	Data []byte
	// ID is the last event id seen ("id:"), which persists across events as the standard says.
	ID string
}

// ErrMore may be returned by the underlying reader, with no bytes, when it holds nothing now
// but the stream goes on: Next returns it and keeps what it has read, and the next call to
// Next carries on with the same event. An event loop that is handed bytes as they arrive reads
// them this way without a goroutine per stream.
var ErrMore = errors.New("sse: no more bytes yet")

// ErrTooLong is returned when a line or an event's data exceeds Options.MaxEventBytes: the
// peer is not sending SSE, or is sending something no LLM server sends.
var ErrTooLong = errors.New("sse: line or event too long")

// Options tune a Reader; the zero value is usable.
type Options struct {
	// BufferSize is the initial read buffer; default 16 KiB.
	BufferSize int
	// MaxEventBytes bounds a line and an event's data; default 4 MiB.
	MaxEventBytes int
	// Buffers, when set, lends the read buffer (its size replaces BufferSize): the Reader
	// gives it back whenever the underlying reader has no bytes now (ErrMore), keeping the
	// start of a line it holds (up to an eighth of the buffer) aside, and takes one again
	// with the next bytes. Thousands of streams waiting for their next token on an event
	// loop then hold no read buffer at all.
	Buffers *Buffers
}

// Buffers is a pool of read buffers of one size, shared by Readers (Options.Buffers). Safe for
// concurrent use.
type Buffers struct {
	size int
	pool sync.Pool
}

// NewBuffers returns a pool of buffers of size bytes (16 KiB if size <= 0).
func NewBuffers(size int) *Buffers {
	if size <= 0 {
		size = defaultBufferSize
	}
	b := &Buffers{size: size}
	b.pool.New = func() any {
		buf := make([]byte, size)
		return &buf
	}
	return b
}

const (
	defaultBufferSize    = 16 << 10
	defaultMaxEventBytes = 4 << 20
)

// Reader reads events from a stream. It reads from the underlying reader only when the bytes
// it holds contain no complete line, so an event is returned as soon as the read that
// completed it returns: callers that time the underlying reads can time events exactly.
type Reader struct {
	r       io.Reader
	buf     []byte // nil while lent back to bufs
	bufs    *Buffers
	lent    *[]byte // the pool's holder of buf, given back with it
	carry   []byte  // the unread bytes kept while buf is lent
	start   int     // unread bytes are buf[start:end]
	end     int
	max     int
	err     error // sticky error from r
	skipLF  bool  // the last line ended with CR at the end of the buffer: drop a leading LF
	started bool  // past the optional byte-order mark
	resume  bool  // the last Next returned ErrMore in the middle of an event

	data     []byte
	hasData  bool
	typ      []byte
	typStr   string
	id       string
	comments int
	unknown  int
}

// NewReader returns a Reader with default options.
func NewReader(r io.Reader) *Reader { return NewReaderOptions(r, Options{}) }

// NewReaderOptions returns a Reader with the given options.
func NewReaderOptions(r io.Reader, o Options) *Reader {
	size, max := o.BufferSize, o.MaxEventBytes
	if size <= 0 {
		size = defaultBufferSize
	}
	if max <= 0 {
		max = defaultMaxEventBytes
	}
	if o.Buffers != nil {
		return &Reader{r: r, bufs: o.Buffers, max: max}
	}
	return &Reader{r: r, buf: make([]byte, size), max: max}
}

// Reset makes the reader read a new stream from r, keeping its buffers; a read buffer lent
// by Options.Buffers goes back to them (a new stream may wait long for its first byte).
func (r *Reader) Reset(src io.Reader) {
	if r.bufs != nil && r.buf != nil {
		r.giveBack()
	}
	buf, bufs, lent, carry, data, typ, typStr, max := r.buf, r.bufs, r.lent, r.carry, r.data, r.typ, r.typStr, r.max
	*r = Reader{r: src, buf: buf, bufs: bufs, lent: lent, carry: carry[:0], data: data[:0], typ: typ[:0], typStr: typStr,
		max: max}
}

// Comments is how many comment lines (":" keep-alives) the reader has seen.
func (r *Reader) Comments() int { return r.comments }

// Unknown is how many lines had a field name other than data, event, id, retry and error:
// ignored as the standard says, and counted so a caller can tell garbage from SSE.
func (r *Reader) Unknown() int { return r.unknown }

// Next returns the next event. At the end of the stream it returns io.EOF; if the stream ends
// after complete data lines but before the blank line that should dispatch them, that event is
// returned first (a lenient reading: the standard would drop it). An incomplete last line is
// dropped. Other errors are the underlying reader's, or ErrTooLong.
//
// Besides the standard fields, a line "error: VALUE" (how llama.cpp's server reports an error
// inside a stream) is returned at once as an event of type "error" with VALUE as its data.
func (r *Reader) Next() (Event, error) {
	if !r.resume {
		r.resetEvent()
	}
	r.resume = false
	for {
		line, err := r.line()
		if err != nil {
			if errors.Is(err, ErrMore) {
				r.resume = true
				return Event{}, err
			}
			if errors.Is(err, io.EOF) && r.hasData {
				return r.event(), nil
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if r.hasData {
				return r.event(), nil
			}
			r.resetEvent()
			continue
		}
		if ev, ok, err := r.field(line); ok || err != nil {
			return ev, err
		}
	}
}

func (r *Reader) resetEvent() {
	r.data = r.data[:0]
	r.hasData = false
	r.typ = r.typ[:0]
}

// event builds the dispatched event from the buffers.
func (r *Reader) event() Event {
	ev := Event{Data: r.data, ID: r.id}
	if len(r.typ) > 0 {
		if string(r.typ) != r.typStr { // no allocation when the type repeats
			r.typStr = string(r.typ)
		}
		ev.Type = r.typStr
	}
	r.hasData = false
	return ev
}

// field processes one non-empty line; ok reports an event to return at once.
func (r *Reader) field(line []byte) (Event, bool, error) {
	if line[0] == ':' {
		r.comments++
		return Event{}, false, nil
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) { // no allocation: the compiler compares without converting
	case "data":
		if r.hasData {
			r.data = append(r.data, '\n')
		}
		if len(r.data)+len(value) > r.max {
			return Event{}, false, ErrTooLong
		}
		r.data = append(r.data, value...)
		r.hasData = true
	case "event":
		r.typ = append(r.typ[:0], value...)
	case "id":
		if bytes.IndexByte(value, 0) < 0 && string(value) != r.id {
			r.id = string(value)
		}
	case "retry":
	case "error":
		r.data = append(r.data[:0], value...)
		r.typ = append(r.typ[:0], "error"...)
		return r.event(), true, nil
	default:
		r.unknown++
	}
	return Event{}, false, nil
}

// line returns the next line without its terminator; it is valid until the next call.
func (r *Reader) line() ([]byte, error) {
	for {
		if r.skipLF && r.start < r.end {
			if r.buf[r.start] == '\n' {
				r.start++
			}
			r.skipLF = false
		}
		if !r.started && !r.skipBOM() {
			if err := r.fill(); err != nil {
				return nil, err
			}
			continue
		}
		if line, ok := r.cut(); ok {
			return line, nil
		}
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
}

// skipBOM drops a UTF-8 byte-order mark at the start; false means more bytes are needed.
func (r *Reader) skipBOM() bool {
	const bom = "\xEF\xBB\xBF"
	b := r.buf[r.start:r.end]
	n := min(len(b), len(bom))
	if string(b[:n]) != bom[:n] {
		r.started = true
		return true
	}
	if n < len(bom) {
		return r.err != nil // at EOF the partial mark is just bytes
	}
	r.start += len(bom)
	r.started = true
	return true
}

// cut takes one complete line from the buffer.
func (r *Reader) cut() ([]byte, bool) {
	b := r.buf[r.start:r.end]
	lf := bytes.IndexByte(b, '\n')
	scan := b
	if lf >= 0 {
		scan = b[:lf]
	}
	if cr := bytes.IndexByte(scan, '\r'); cr >= 0 {
		line := b[:cr]
		switch {
		case cr+1 < len(b) && b[cr+1] == '\n':
			r.start += cr + 2
		case cr+1 < len(b):
			r.start += cr + 1
		default: // CR at the end of what we hold: an LF may follow in the next read
			r.start += cr + 1
			r.skipLF = true
		}
		return line, true
	}
	if lf >= 0 {
		r.start += lf + 1
		return b[:lf], true
	}
	return nil, false
}

// fill reads more bytes, compacting or growing the buffer first.
func (r *Reader) fill() error {
	if r.err != nil {
		return r.err
	}
	if r.start > 0 && r.start == r.end {
		r.start, r.end = 0, 0
	}
	if r.buf == nil {
		r.lent = r.bufs.pool.Get().(*[]byte)
		r.buf = *r.lent
		r.end = copy(r.buf, r.carry)
		r.carry = r.carry[:0]
	}
	if r.end == len(r.buf) {
		if err := r.makeRoom(); err != nil {
			return err
		}
	}
	for range 100 {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if n == 0 && errors.Is(err, ErrMore) {
			r.lend()
			return err // not sticky: the caller comes back with more bytes
		}
		if err != nil {
			r.err = err
			if n > 0 {
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	r.err = fmt.Errorf("sse: %w", io.ErrNoProgress)
	return r.err
}

// lend gives the read buffer back to the pool until bytes come again, the start of a line
// it holds set aside.
func (r *Reader) lend() {
	if r.bufs == nil || r.buf == nil || r.end-r.start > r.bufs.size/8 {
		return
	}
	r.carry = append(r.carry[:0], r.buf[r.start:r.end]...)
	r.giveBack()
	r.start, r.end = 0, 0
}

// giveBack returns the lent read buffer to the pool; a buffer a long line made bigger is
// dropped rather than pooled.
func (r *Reader) giveBack() {
	if len(r.buf) == r.bufs.size {
		r.bufs.pool.Put(r.lent)
	}
	r.buf, r.lent = nil, nil
}

func (r *Reader) makeRoom() error {
	held := r.end - r.start
	if held >= r.max {
		r.err = ErrTooLong
		return r.err
	}
	if r.start > 0 && held < len(r.buf)/2 {
		copy(r.buf, r.buf[r.start:r.end])
		r.start, r.end = 0, held
		return nil
	}
	bigger := make([]byte, min(2*len(r.buf), r.max+1))
	copy(bigger, r.buf[r.start:r.end])
	r.buf, r.start, r.end = bigger, 0, held
	return nil
}
