package stats

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

// randomRecords is n records of a run with warm-up [0,1s), window [1s,3s) and cool-down
// after: a seeded mix of successes (with chunk gaps and tokens per chunk), failures and
// requests never sent, three in four of those sent with a connect time.
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
		if i%4 != 0 && q.ErrorKind != results.ErrorNotSent { // a connect timed, or not (0)
			q.ConnectNs = 1 + due%int64(time.Millisecond)
		}
		rows[i] = q
	}
	return rows
}

// TestSpillEqualsMemory: what Spill moves to temporary files (chunk gaps and every
// request's timings) gives exactly the figures and trend kept in memory do, whether the
// statistics sort every value or stream them in passes over the files (small sortMax); and
// streamed percentiles, counts and trend equal the sorted ones (the means may differ in
// their last bits: they are summed in arrival order).
func TestSpillEqualsMemory(t *testing.T) {
	t.Parallel()
	rows := randomRecords(7, 3000)
	for i := range rows { // some responses with vLLM's own gaps, as chat's role delta gives
		if q := &rows[i]; i%3 == 0 && len(q.ITLNs) > 0 {
			q.VLLMTTFTNs, q.VLLMITLNs = q.TTFTNs/2, append([]int64{q.TTFTNs / 2}, q.ITLNs...)
		}
	}
	w := Span{From: time.Second, To: 3 * time.Second, OpenLoop: true}
	type result struct {
		S Summary
		T Trend
	}
	summarize := func(sortMax int, spill bool) result {
		a := Accumulator{sortMax: sortMax, SLO: loadspec.SLO{TTFT: 200 * time.Millisecond}}
		if spill {
			if err := a.Spill(t.TempDir()); err != nil {
				t.Fatal(err)
			}
			defer a.Close()
		}
		for i := range rows {
			a.Add(&rows[i])
		}
		if spill && len(a.reqs) != 0 {
			t.Fatalf("%d requests kept in memory though spilled", len(a.reqs))
		}
		s, tr := a.Summarize(w)
		return result{s, tr}
	}
	sorted := summarize(0, false)
	if s := sorted.S; s.ITL.N == 0 || s.ITLvLLM.N <= s.ITL.N || s.Failed == 0 || s.NotSent == 0 || s.ScheduledRate == 0 ||
		s.GoodRequests == 0 || s.GoodRequests == s.Succeeded || !s.VLLMDiffers || s.Connect.N == 0 || sorted.T[0] == 0 || sorted.T[1] == 0 {
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
	if want := NewStat(vitl); sorted.S.ITLvLLM != want {
		t.Errorf("vLLM's ITL %+v, want %+v", sorted.S.ITLvLLM, want)
	}
	exact := cmpopts.IgnoreFields(Stat{}, "Mean", "Std")
	for _, sortMax := range []int{0, 1 << 40, 64, 5} { // 64 and 5 stream every statistic and the trend
		memory := summarize(sortMax, false)
		if diff := cmp.Diff(memory, summarize(sortMax, true), cmpopts.EquateNaNs()); diff != "" {
			t.Errorf("sortMax %d: files differ from memory (-memory +files):\n%s", sortMax, diff)
		}
		if diff := cmp.Diff(sorted, memory, exact); diff != "" {
			t.Errorf("sortMax %d: streamed figures differ from sorted (-sorted +streamed):\n%s", sortMax, diff)
		}
	}
	if diff := cmp.Diff(sorted, summarize(1<<40, true), cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("sorted figures from the files differ from memory's (-memory +files):\n%s", diff)
	}
}

// TestSpillFailureLeavesFiguresEmpty: a temporary file that fails (closed, truncated,
// corrupted) empties the figures it holds rather than giving wrong ones, and leaves the
// others as they are.
func TestSpillFailureLeavesFiguresEmpty(t *testing.T) {
	t.Parallel()
	rows := randomRecords(5, 500)
	w := Span{From: time.Second, To: 3 * time.Second, OpenLoop: true}
	var whole Accumulator
	for i := range rows {
		whole.Add(&rows[i])
	}
	want, _ := whole.Summarize(w)
	flush := func(f *spillFile) {
		if err := f.w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name     string
		breakIt  func(a *Accumulator)
		requests bool // the request figures go, not only the gaps'
	}{
		{"request file closed", func(a *Accumulator) { a.store.f.Close() }, true},
		{"request file truncated", func(a *Accumulator) {
			flush(&a.store.spillFile)
			fi, err := a.store.f.Stat()
			if err == nil {
				err = a.store.f.Truncate(fi.Size() - 1)
			}
			if err != nil {
				t.Fatal(err)
			}
		}, true},
		{"request file corrupted", func(a *Accumulator) {
			flush(&a.store.spillFile)
			if _, err := a.store.f.WriteAt([]byte{0x80}, 10*reqRecord); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"gap file closed", func(a *Accumulator) { a.gaps.f.Close() }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var a Accumulator
			if err := a.Spill(t.TempDir()); err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			for i := range rows {
				a.Add(&rows[i])
			}
			tt.breakIt(&a)
			got, trend := a.Summarize(w)
			empty := want
			empty.ITL, empty.ITLvLLM, empty.TokenITL = Stat{}, Stat{}, Stat{}
			if tt.requests {
				empty = Summary{Window: want.Window, Sent: want.Sent, NotSent: want.NotSent, Phases: want.Phases,
					Failures: want.Failures, FirstErrors: want.FirstErrors}
				if trend != (Trend{}) {
					t.Errorf("trend %v from a failed file", trend)
				}
			}
			if diff := cmp.Diff(empty, got, cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("figures of a failed file (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStreamedLagTrend: above sortMax the send lag's trend is streamed, and equals the
// sorted one where due times are distinct; where they tie at a tenth's bound, every tied
// request counts in the tenth.
func TestStreamedLagTrend(t *testing.T) {
	t.Parallel()
	w := Span{From: 0, To: time.Hour}
	rng := rand.New(rand.NewPCG(4, 4))
	for _, tt := range []struct {
		n   int
		due func(i int) int64
	}{
		{20, func(i int) int64 { return int64(i) }},
		{21, func(i int) int64 { return int64(i) }},
		{99, func(i int) int64 { return int64(1000 - i) }},
		{1000, func(i int) int64 { return rng.Int64N(1 << 40) }}, // distinct, almost surely
		{5000, func(i int) int64 { return int64(i * 7919 % 5000) }},
	} {
		var a Accumulator
		a.sortMax = 8
		var points []lagPoint
		for i := range tt.n {
			due := tt.due(i)
			q := results.Request{Phase: results.PhaseMeasure, DueNs: due, SentNs: due + rng.Int64N(1e9), HTTPStatus: 200}
			q.EndNs = q.SentNs + 1
			a.Add(&q)
			points = append(points, lagPoint{due, q.SentNs - due})
		}
		want := lagTrend(points)
		if got := a.lagTrend(w, tt.n); got != want || want == (Trend{}) {
			t.Errorf("%d requests: streamed trend %v, sorted %v", tt.n, got, want)
		}
	}
	// Every due time the same: both tenths are every request, their median lag the upper one.
	var a Accumulator
	a.sortMax = 8
	for i := range 100 {
		q := results.Request{Phase: results.PhaseMeasure, DueNs: 5, SentNs: 5 + int64(i), EndNs: 1000, HTTPStatus: 200}
		a.Add(&q)
	}
	if got := a.lagTrend(w, 100); got != (Trend{50, 50}) {
		t.Errorf("tied due times: trend %v, want [50ns 50ns]", got)
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
	var connect []float64 // every outcome's, where timed
	for _, q := range rows {
		if q.ErrorKind == results.ErrorNotSent || q.EndNs < int64(w.From) || q.EndNs >= int64(w.To) {
			continue
		}
		if q.ConnectNs > 0 {
			connect = append(connect, float64(q.ConnectNs)/1e6)
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
	if want := NewStat(connect); s.Connect != want || want.N <= failed || want.N >= ok+failed {
		t.Errorf("connect %+v, want %+v (of %d requests)", s.Connect, want, ok+failed)
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
			if err := a.Spill(b.TempDir()); err != nil {
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
