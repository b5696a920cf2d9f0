package loadgen

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// vllmRow is what vLLM's result needs of a request record: about 150 bytes and 4 a gap,
// where a whole record read back costs several times that.
type vllmRow struct {
	startUnix, sent, due, end, ttft, tpot, e2e, seq int64
	worker, in, out                                 int32
	kind, msg                                       string
	itl                                             packedGaps
}

// packedGaps are a request's chunk gaps (ns) as varints: 3–4 bytes a gap of milliseconds
// instead of 8, the most a long run's result holds.
type packedGaps []byte

func packGaps(v []int64) packedGaps {
	n := 0
	for _, g := range v {
		n += varintLen(g)
	}
	p := make(packedGaps, 0, n)
	for _, g := range v {
		p = binary.AppendVarint(p, g)
	}
	return p
}

func varintLen(x int64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutVarint(b[:], x)
}

// each calls f with every gap, in order.
func (p packedGaps) each(f func(gap int64)) {
	for len(p) > 0 {
		g, n := binary.Varint(p)
		f(g)
		p = p[n:]
	}
}

func (q *vllmRow) ok() bool { return q.kind == "" }

// endsIn reports whether the request ended within [from, to), the measured window.
func (q *vllmRow) endsIn(from, to time.Duration) bool {
	return q.end >= int64(from) && q.end < int64(to)
}

func toVLLMRow(r *results.Request) vllmRow {
	return vllmRow{startUnix: r.StartUnixNs, sent: r.SentNs, due: r.DueNs, end: r.EndNs, ttft: r.TTFTNs, tpot: r.TPOTNs,
		e2e: r.E2ENs, seq: r.Seq, worker: r.WorkerID, in: r.PromptTokens, out: r.OutputTokens, kind: r.ErrorKind,
		msg: r.Error, itl: packGaps(r.ITLNs)}
}

// vllmColumns read vllmRows from a request file; the gaps only of the requests that
// succeeded within [from, to), the only ones vLLM's figures use.
func vllmColumns(from, to time.Duration) []results.Column[vllmRow] {
	i64, i32, str := results.Int64Field[vllmRow], results.Int32Field[vllmRow], results.StringField[vllmRow]
	return []results.Column[vllmRow]{
		i64("start_unix_ns", func(q *vllmRow) *int64 { return &q.startUnix }),
		i64("sent_ns", func(q *vllmRow) *int64 { return &q.sent }),
		i64("due_ns", func(q *vllmRow) *int64 { return &q.due }),
		i64("end_ns", func(q *vllmRow) *int64 { return &q.end }),
		i64("ttft_ns", func(q *vllmRow) *int64 { return &q.ttft }),
		i64("tpot_ns", func(q *vllmRow) *int64 { return &q.tpot }),
		i64("e2e_ns", func(q *vllmRow) *int64 { return &q.e2e }),
		i64("seq", func(q *vllmRow) *int64 { return &q.seq }),
		i32("worker_id", func(q *vllmRow) *int32 { return &q.worker }),
		i32("prompt_tokens", func(q *vllmRow) *int32 { return &q.in }),
		i32("output_tokens", func(q *vllmRow) *int32 { return &q.out }),
		str("error_kind", func(q *vllmRow) *string { return &q.kind }),
		str("error", func(q *vllmRow) *string { return &q.msg }),
		{Path: results.ListPath("itl_ns"), Int64s: func(q *vllmRow, v []int64) { q.itl = packGaps(v) },
			Skip: func(q *vllmRow) bool { return !q.ok() || !q.endsIn(from, to) }},
	}
}

// WriteVLLMResult writes VLLMResult of the request files to path (atomically), reading of
// each record only what the figures need, and streaming the per-request gaps to the file:
// a long run's result is written in a fraction of the memory its records would take.
func WriteVLLMResult(path string, files []string, from, to time.Duration, o VLLMOptions) error {
	var rows []vllmRow
	for _, f := range files {
		r, err := results.ReadColumns(f, vllmColumns(from, to))
		if err != nil {
			return err
		}
		if rows == nil {
			rows = r // one file (load's): no copy
		} else {
			rows = append(rows, r...)
		}
	}
	doc := vllmDoc(rows, from, to, o)
	return results.WriteAtomic(path, func(w io.Writer) error { return writeJSONDoc(w, doc) })
}

// writeJSONDoc writes doc as a JSON object, keys sorted as encoding/json sorts them, one a
// line; a value that can stream itself (vllmGaps) is written piece by piece rather than
// marshalled whole.
func writeJSONDoc(w io.Writer, doc map[string]any) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.WriteString("{")
	for i, k := range slices.Sorted(maps.Keys(doc)) {
		if i > 0 {
			bw.WriteString(",")
		}
		key, err := json.Marshal(k)
		if err != nil {
			return err
		}
		bw.WriteString("\n  ")
		bw.Write(key)
		bw.WriteString(": ")
		if err := writeJSONValue(bw, doc[k]); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

func writeJSONValue(bw *bufio.Writer, v any) error {
	if g, ok := v.(vllmGaps); ok {
		return g.stream(bw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = bw.Write(b)
	return err
}

// vllmGaps is vLLM's "itls": each request's gaps in seconds, none for a failed one.
type vllmGaps []*vllmRow

// stream writes the gaps to bw a request at a time.
func (g vllmGaps) stream(bw *bufio.Writer) error {
	var b []byte
	bw.WriteByte('[')
	for i, q := range g {
		b = b[:0]
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '[')
		if q.ok() {
			sep := false
			q.itl.each(func(gap int64) {
				if sep {
					b = append(b, ", "...)
				}
				b, sep = appendPyFloat(b, float64(gap)/1e9), true
			})
		}
		b = append(b, ']')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.WriteByte(']')
}

// MarshalJSON implements json.Marshaler (for a document marshalled whole).
func (g vllmGaps) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	if err := g.stream(bw); err != nil {
		return nil, err
	}
	err := bw.Flush()
	return buf.Bytes(), err
}

// addVLLMGapStat writes the statistics of every gap of the successful requests as
// addVLLMStat does, without a list of them: the percentiles are streamed (exact), the mean and
// deviation summed in request order above stats.DefaultSortMax gaps.
func addVLLMGapStat(doc map[string]any, reqs []*vllmRow, percentiles []float64) {
	st, at, _ := stats.StreamPercentiles(0, percentiles, func(add func(float64)) error {
		for _, q := range reqs {
			if q.ok() {
				q.itl.each(func(g int64) { add(float64(g) / 1e9 * 1000) })
			}
		}
		return nil
	})
	if st.N == 0 { // vLLM's zeros for no values
		at = make([]float64, len(percentiles))
	}
	doc["mean_itl_ms"], doc["median_itl_ms"], doc["std_itl_ms"] = pyFloat(st.Mean), pyFloat(st.Median), pyFloat(st.Std)
	for i, p := range percentiles {
		doc[vllmPercentileKey(p, "itl")] = pyFloat(at[i])
	}
}

func vllmPercentileKey(p float64, name string) string {
	return "p" + strconv.FormatFloat(p, 'f', -1, 64) + "_" + name + "_ms"
}

var _ json.Marshaler = vllmGaps(nil)
