package sim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/tokens"
)

func TestFixedCadenceTimingAndRecord(t *testing.T) {
	t.Parallel()
	for _, ext := range []string{".jsonl", ".parquet"} {
		t.Run(ext, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "chunks"+ext)
			synctest.Test(t, func(t *testing.T) {
				checkCadence(t, path)
			})
			rows := readRecord(t, path)
			checkRecord(t, rows, 3, 5)
		})
	}
}

// checkCadence runs 3 concurrent streams of 5 tokens on a 50 ms / 10 ms cadence and checks
// that every chunk arrives exactly on time.
func checkCadence(t *testing.T, path string) {
	b := startBubble(t, Config{Cadence: &Cadence{TTFT: 50 * time.Millisecond, ITL: 10 * time.Millisecond}, RecordChunks: path})
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			resp, err := b.do(t, "/v1/completions", streamBody(5), fmt.Sprintf("r%d", i))
			evs := timedStream(t, resp, err)
			if len(evs) != 7 { // 5 tokens, usage, [DONE]
				t.Errorf("stream %d: %d events, want 7", i, len(evs))
				return
			}
			for k := range 5 {
				want := 50*time.Millisecond + time.Duration(k)*10*time.Millisecond
				if got := evs[k].at.Sub(start); got != want {
					t.Errorf("stream %d token %d at %v, want %v", i, k, got, want)
				}
			}
		})
	}
	wg.Wait()
	if err := b.stop(); err != nil {
		t.Fatal(err)
	}
}

func readRecord(t *testing.T, path string) []ChunkRecord {
	t.Helper()
	if filepath.Ext(path) == ".parquet" {
		rows, err := results.ReadParquet[ChunkRecord](path)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []ChunkRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r ChunkRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("record line %q: %v", sc.Text(), err)
		}
		rows = append(rows, r)
	}
	return rows
}

// checkRecord checks a chunk record of streams × (tokens content chunks, usage, done).
func checkRecord(t *testing.T, rows []ChunkRecord, streams, tokens int) {
	t.Helper()
	if len(rows) != streams*(tokens+2) {
		t.Fatalf("%d records, want %d", len(rows), streams*(tokens+2))
	}
	byReq := map[string][]ChunkRecord{}
	for _, r := range rows {
		byReq[r.XRequestID] = append(byReq[r.XRequestID], r)
	}
	for id, rs := range byReq {
		for k, r := range rs[:tokens] {
			wantDue := r.ArrivalUnixNs + int64(50*time.Millisecond+time.Duration(k)*10*time.Millisecond)
			if r.Kind != ChunkContent || r.Tokens != 1 || int(r.Chunk) != k || r.DueUnixNs != wantDue ||
				r.WrittenUnixNs != r.DueUnixNs || r.RequestID != "cmpl-"+id {
				t.Errorf("%s chunk %d: %+v (want content, 1 token, due = written = arrival+%v)", id, k, r,
					time.Duration(wantDue-r.ArrivalUnixNs))
			}
		}
		if rs[tokens].Kind != ChunkUsage || rs[tokens+1].Kind != ChunkDone {
			t.Errorf("%s ends with %q, %q; want usage, done", id, rs[tokens].Kind, rs[tokens+1].Kind)
		}
	}
}

func TestModelTimingIsExactInFakeTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{MaxNumSeqs: 16}
		b := startBubble(t, cfg)
		start := time.Now()
		resp, err := b.do(t, "/v1/completions", streamBody(10), "one")
		evs := timedStream(t, resp, err)
		if err := b.stop(); err != nil {
			t.Fatal(err)
		}
		if len(evs) != 12 {
			t.Fatalf("%d events, want 10 tokens, usage and [DONE] (one token a chunk)", len(evs))
		}
		// Predict the timing from the model itself: intake, prefill step, then decode steps,
		// each followed by the API server's per-token work.
		eff, _ := Resolve(cfg)
		hw, costs := eff.Hardware(), eff.Costs
		p := tokens.Count("hello world")
		var prefill Step
		prefill.Add(0, p, true)
		first := costs.Request + time.Duration(p)*costs.PromptToken + hw.StepTime(prefill) + costs.OutputToken
		if got := evs[0].at.Sub(start); got != first {
			t.Errorf("first token at %v, want %v", got, first)
		}
		var decode Step
		decode.Add(p+1, 1, true) // the second decode step: prompt and two tokens known
		if gap := evs[2].at.Sub(evs[1].at); gap != hw.StepTime(decode) {
			t.Errorf("inter-token gap %v, want one decode step %v", gap, hw.StepTime(decode))
		}
	})
}

func TestSpeedupScalesTime(t *testing.T) {
	t.Parallel()
	durations := map[float64]time.Duration{}
	for _, speedup := range []float64{1, 10} {
		synctest.Test(t, func(t *testing.T) {
			b := startBubble(t, Config{Speedup: speedup})
			start := time.Now()
			resp, err := b.do(t, "/v1/completions", streamBody(50), "x")
			timedStream(t, resp, err)
			durations[speedup] = time.Since(start)
			if err := b.stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if r := float64(durations[1]) / float64(durations[10]); r < 9.9 || r > 10.1 {
		t.Errorf("a response took %v at speedup 1 and %v at 10 (×%.2f), want ×10", durations[1], durations[10], r)
	}
}

// TestSameSeedSameTimesOverHTTP runs the same concurrent load twice: every chunk's written
// time must be identical, whatever order the goroutines ran in.
func TestSameSeedSameTimesOverHTTP(t *testing.T) {
	t.Parallel()
	run := func() map[string][]time.Duration {
		out := map[string][]time.Duration{}
		var mu sync.Mutex
		synctest.Test(t, func(t *testing.T) {
			b := startBubble(t, Config{MaxNumSeqs: 4, Seed: 3})
			start := time.Now()
			var wg sync.WaitGroup
			for i := range 12 {
				wg.Go(func() {
					time.Sleep(time.Duration(i%3) * time.Millisecond)
					id := fmt.Sprintf("req-%02d", i)
					body := streamBody(8 + i)
					delete(body, "ignore_eos") // lengths drawn from the seed and the request id
					resp, err := b.do(t, "/v1/completions", body, id)
					var times []time.Duration
					for _, ev := range timedStream(t, resp, err) {
						times = append(times, ev.at.Sub(start))
					}
					mu.Lock()
					out[id] = times
					mu.Unlock()
				})
			}
			wg.Wait()
			if err := b.stop(); err != nil {
				t.Fatal(err)
			}
		})
		return out
	}
	a, b := run(), run()
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("two runs differ:\n%v\n%v", a, b)
	}
}
