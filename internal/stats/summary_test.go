package stats

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/llmscale/llmscale/internal/results"
)

// randomRecords is n records of a run with warm-up [0,1s), window [1s,3s) and cool-down
// after: a seeded mix of successes (with chunk gaps and tokens per chunk), failures and
// requests never sent.
func randomRecords(seed uint64, n int) []results.Request {
	rng := rand.New(rand.NewPCG(seed, 1))
	rows := make([]results.Request, n)
	for i := range rows {
		due := rng.Int64N(int64(4 * time.Second))
		q := results.Request{Seq: int64(i), DueNs: due, SentNs: due + rng.Int64N(int64(time.Millisecond)),
			HTTPStatus: 200, PromptTokens: int32(1 + rng.IntN(100))}
		q.EndNs = q.SentNs + rng.Int64N(int64(500*time.Millisecond))
		q.Phase = results.PhaseMeasure
		switch {
		case q.EndNs < int64(time.Second):
			q.Phase = results.PhaseWarmup
		case q.EndNs >= int64(3*time.Second):
			q.Phase = results.PhaseCooldown
		}
		switch rng.IntN(10) {
		case 0:
			q.ErrorKind, q.Error, q.HTTPStatus = results.ErrorHTTP, "HTTP 503", 503
		case 1:
			q.ErrorKind, q.SentNs = results.ErrorNotSent, 0
		default:
			chunks := 1 + rng.IntN(20)
			q.ChunkTokens = make([]int32, chunks)
			for k := range q.ChunkTokens {
				q.ChunkTokens[k] = int32(rng.IntN(3))
				q.OutputTokens += q.ChunkTokens[k]
			}
			for range chunks - 1 {
				q.ITLNs = append(q.ITLNs, rng.Int64N(int64(50*time.Millisecond)))
			}
			q.TTFTNs, q.E2ENs, q.TPOTNs = rng.Int64N(q.EndNs-q.SentNs+1), q.EndNs-q.SentNs, rng.Int64N(int64(time.Second))
		}
		rows[i] = q
	}
	return rows
}

// TestGapFileEqualsMemory: chunk gaps spilled to the temporary file give exactly the figures
// kept in memory do, whether the gap statistics sort every value or stream them (sortMax 64:
// several passes over the file); streamed percentiles equal the sorted ones.
func TestGapFileEqualsMemory(t *testing.T) {
	t.Parallel()
	rows := randomRecords(7, 3000)
	for i := range rows { // some responses with vLLM's own gaps, as chat's role delta gives
		if q := &rows[i]; i%3 == 0 && len(q.ITLNs) > 0 {
			q.VLLMTTFTNs, q.VLLMITLNs = q.TTFTNs/2, append([]int64{q.TTFTNs / 2}, q.ITLNs...)
		}
	}
	w := Span{From: time.Second, To: 3 * time.Second, OpenLoop: true}
	summarize := func(sortMax int, spill bool) Summary {
		a := Accumulator{sortMax: sortMax}
		if spill {
			if err := a.SpillGaps(t.TempDir()); err != nil {
				t.Fatal(err)
			}
			defer a.Close()
		}
		for i := range rows {
			a.Add(&rows[i])
		}
		s, _ := a.Summarize(w)
		return s
	}
	sorted := summarize(0, false)
	if sorted.ITL.N == 0 || sorted.ITLvLLM.N <= sorted.ITL.N || sorted.Failed == 0 || sorted.NotSent == 0 || sorted.ScheduledRate == 0 {
		t.Fatalf("the records do not exercise every figure: %+v", sorted)
	}
	var vitl []float64 // vLLM's ITL: each response's own gaps where it has them, else ours
	for _, q := range rows {
		if q.OK() && q.EndNs >= int64(w.From) && q.EndNs < int64(w.To) {
			gaps := q.VLLMITLNs
			if len(gaps) == 0 {
				gaps = q.ITLNs
			}
			for _, g := range gaps {
				vitl = append(vitl, float64(g)/1e6)
			}
		}
	}
	if want := NewStat(vitl); sorted.ITLvLLM != want {
		t.Errorf("vLLM's ITL %+v, want %+v", sorted.ITLvLLM, want)
	}
	if diff := cmp.Diff(sorted, summarize(0, true), cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("gap file differs from memory (-memory +file):\n%s", diff)
	}
	streamed := summarize(64, false)
	if diff := cmp.Diff(streamed, summarize(64, true), cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("streamed: gap file differs from memory (-memory +file):\n%s", diff)
	}
	exact := cmpopts.IgnoreFields(Stat{}, "Mean", "Std")
	if diff := cmp.Diff(sorted, streamed, exact); diff != "" {
		t.Errorf("streamed percentiles differ from sorted (-sorted +streamed):\n%s", diff)
	}
}

// TestSummarizeCounts checks the window's counts against a direct count of the records.
func TestSummarizeCounts(t *testing.T) {
	t.Parallel()
	rows := randomRecords(3, 2000)
	w := Span{From: time.Second, To: 3 * time.Second}
	s := SummarizeRecords(rows, w)
	var ok, failed, gaps int
	var out int64
	for _, q := range rows {
		if q.ErrorKind == results.ErrorNotSent || q.EndNs < int64(w.From) || q.EndNs >= int64(w.To) {
			continue
		}
		if !q.OK() {
			failed++
			continue
		}
		ok, out, gaps = ok+1, out+int64(q.OutputTokens), gaps+len(q.ITLNs)
	}
	if s.Succeeded != ok || s.Failed != failed || s.OutputTokens != out || s.ITL.N != gaps || s.TTFT.N != ok {
		t.Errorf("summary ok %d failed %d out %d gaps %d ttft n %d; want %d %d %d %d %d",
			s.Succeeded, s.Failed, s.OutputTokens, s.ITL.N, s.TTFT.N, ok, failed, out, gaps, ok)
	}
	if want := float64(ok) / 2; math.Abs(s.RequestThroughput-want) > 1e-12 {
		t.Errorf("request throughput %v, want %v", s.RequestThroughput, want)
	}
	if s.ScheduledRate != 0 {
		t.Errorf("a closed-loop window has scheduled rate %v", s.ScheduledRate)
	}
}

func TestMean(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		v    []float64
		want float64
	}{{[]float64{1, 2, 3, 4}, 2.5}, {[]float64{-1, 1}, 0}, {[]float64{1e16, 1, -1e16}, 0}} { // summed in order
		if got := Mean(tt.v); got != tt.want {
			t.Errorf("Mean(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
	if !math.IsNaN(Mean(nil)) {
		t.Error("Mean of nothing is not NaN")
	}
}

// BenchmarkSummarizeGaps is the end-of-run summary of 20,000 measured 128-token answers (2.5
// million chunk gaps) read back from the gap file: sorting every gap as the summary did
// before, or streaming them in passes. B/op is what the summary allocates.
//
//	go test ./internal/stats -run '^$' -bench SummarizeGaps -benchmem -count 6
func BenchmarkSummarizeGaps(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, m := range []struct {
		name    string
		sortMax int
	}{{"sort", 1 << 40}, {"stream", 0}} {
		b.Run("method="+m.name, func(b *testing.B) {
			a := Accumulator{sortMax: m.sortMax}
			if err := a.SpillGaps(b.TempDir()); err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			q := results.Request{Phase: results.PhaseMeasure, HTTPStatus: 200, OutputTokens: 128,
				ITLNs: make([]int64, 127), ChunkTokens: make([]int32, 128)}
			for i := range 20_000 {
				for k := range q.ITLNs {
					q.ITLNs[k], q.ChunkTokens[k] = 15_000_000+rng.Int64N(10_000_000), 1
				}
				q.SentNs, q.EndNs = int64(i)*1e5, int64(i)*1e5+int64(2*time.Second)
				a.Add(&q)
			}
			b.ReportAllocs()
			for b.Loop() {
				if s, _ := a.Summarize(Span{From: 0, To: time.Hour}); s.ITL.N != 20_000*127 {
					b.Fatalf("%d gaps, want %d", s.ITL.N, 20_000*127)
				}
			}
		})
	}
}
