package stats

import (
	"encoding/binary"
	"fmt"
	"io"
)

// reqStore keeps what the summary needs of every request (a reqStat) in a temporary file
// instead of memory, so that a run's memory does not grow with the requests it sends: a
// fixed-size record each, read back at the end in as many passes as the exact percentiles
// need.
type reqStore struct {
	spillFile
	enc [reqRecord]byte // add's scratch
}

// reqRecord is the size of a request's record: its flags (ok 1, hasV 2), eight int64 times
// (due, sent, end, ttft, e2e, tpot, vttft, connect) and two int32 token counts (prompt,
// output).
const reqRecord = 1 + 8*8 + 2*4

func newReqStore(dir string) (*reqStore, error) {
	f, err := newSpillFile(dir, "requests")
	if err != nil {
		return nil, fmt.Errorf("request store: %w", err)
	}
	return &reqStore{spillFile: f}, nil
}

func (r *reqStore) add(q *reqStat) { r.write(r.encode(q)) }

// encode is q's record, in r's scratch.
func (r *reqStore) encode(q *reqStat) []byte {
	var flags byte
	if q.ok {
		flags |= 1
	}
	if q.hasV {
		flags |= 2
	}
	b := append(r.enc[:0], flags)
	for _, x := range [...]int64{q.due, q.sent, q.end, q.ttft, q.e2e, q.tpot, q.vttft, q.connect} {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(q.prompt))
	return binary.LittleEndian.AppendUint32(b, uint32(q.output))
}

// each reads every request back, in the order they were added; visit must not keep q. It
// may be called any number of times.
func (r *reqStore) each(visit func(q *reqStat)) error {
	var b [reqRecord]byte
	var q reqStat
	return r.records("request store", b[:], func(io.Reader) error {
		if b[0] > 3 {
			return fmt.Errorf("corrupted record (flags %#x)", b[0])
		}
		q.ok, q.hasV = b[0]&1 != 0, b[0]&2 != 0
		t := b[1:]
		for _, p := range [...]*int64{&q.due, &q.sent, &q.end, &q.ttft, &q.e2e, &q.tpot, &q.vttft, &q.connect} {
			*p, t = int64(binary.LittleEndian.Uint64(t)), t[8:]
		}
		q.prompt, q.output = int32(binary.LittleEndian.Uint32(t)), int32(binary.LittleEndian.Uint32(t[4:]))
		visit(&q)
		return nil
	})
}
