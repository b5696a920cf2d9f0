package stats

import (
	"bytes"
	"testing"
)

// FuzzReqStore: any bytes in the request file are read back as whole records that encode to
// the same bytes, or refused with an error (a partial record, unknown flags); never a panic.
func FuzzReqStore(f *testing.F) {
	var enc reqStore // encodes the seeds and what is read back: encode needs no file
	var rec bytes.Buffer
	for _, q := range []reqStat{
		{ok: true, hasV: true, due: 1, sent: 2, end: 3, ttft: 4, e2e: 5, tpot: 6, vttft: 7, prompt: 8, output: 9},
		{due: -1, sent: 1 << 62, end: -1 << 63, prompt: -1, output: 1 << 30},
	} {
		rec.Write(enc.encode(&q))
	}
	f.Add(rec.Bytes())
	f.Add(rec.Bytes()[:reqRecord+3])
	f.Add([]byte{4})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := newReqStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer r.close()
		r.write(data)
		var again bytes.Buffer
		err = r.each(func(q *reqStat) { again.Write(enc.encode(q)) })
		whole := len(data)%reqRecord == 0
		for i := 0; whole && i < len(data); i += reqRecord {
			whole = data[i] <= 3
		}
		switch {
		case whole && err != nil:
			t.Fatalf("%d whole records refused: %v", len(data)/reqRecord, err)
		case !whole && err == nil:
			t.Fatalf("%d bytes read back without error", len(data))
		case whole && !bytes.Equal(again.Bytes(), data):
			t.Fatalf("records read back encode to %x, want %x", again.Bytes(), data)
		}
	})
}
