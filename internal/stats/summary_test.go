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
// kept in memory do.
func TestGapFileEqualsMemory(t *testing.T) {
	t.Parallel()
	rows := randomRecords(7, 3000)
	w := Span{From: time.Second, To: 3 * time.Second, OpenLoop: true}
	mem := SummarizeRecords(rows, w)
	var a Accumulator
	if err := a.SpillGaps(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := range rows {
		a.Add(&rows[i])
	}
	file, _ := a.Summarize(w)
	if mem.ITL.N == 0 || mem.Failed == 0 || mem.NotSent == 0 || mem.ScheduledRate == 0 {
		t.Fatalf("the records do not exercise every figure: %+v", mem)
	}
	if diff := cmp.Diff(mem, file, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("gap file differs from memory (-memory +file):\n%s", diff)
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
