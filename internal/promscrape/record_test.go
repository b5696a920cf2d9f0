package promscrape

import (
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/llmscale/llmscale/internal/results"
)

// record runs a Recorder in a synctest bubble against a fake vLLM (set up by configure) for a
// window of the given length, and reads the file back after the bubble has ended: the zstd
// decoders that parquet-go shares between readers must not be created inside a bubble, or the
// next bubble that reads a file dies on their channels.
func record(t *testing.T, window time.Duration, configure func(*fakeVLLM)) (time.Time, RecordStats, []results.ServerMetric) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "raw", "exp-1", results.ServerMetricsFile)
	var start time.Time
	var stats RecordStats
	synctest.Test(t, func(t *testing.T) {
		f := newFakeVLLM()
		configure(f)
		client, url := startServer(t, f)
		rec, err := NewRecorder(newScraper(t, client, url), RecorderOptions{Path: path, Experiment: "exp-1"})
		if err != nil {
			t.Fatal(err)
		}
		start = rec.Begin(t.Context())
		time.Sleep(window)
		if stats, err = rec.End(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
	rows, err := results.ReadParquet[results.ServerMetric](path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(rows)) != stats.Rows {
		t.Fatalf("read %d rows, the recorder wrote %d", len(rows), stats.Rows)
	}
	return start, stats, rows
}

func TestRecorderWritesPhasesAndDeltasSurviveRestart(t *testing.T) {
	t.Parallel()
	start, stats, rows := record(t, 5500*time.Millisecond, func(f *fakeVLLM) {
		f.restart = 3500 * time.Millisecond // the server restarts between grid points 3 and 4
	})

	if stats.Scrapes != 6 || stats.FailedScrapes != 0 || stats.BeforeErr != nil || stats.AfterErr != nil {
		t.Fatalf("stats = %+v, want 6 clean grid scrapes", stats)
	}
	checkRowStamps(t, start, rows)
	gen := 0
	for _, r := range rows {
		if r.Name == MetricGenerationTokens && r.Phase == results.PhaseDuring && r.Engine == "1" {
			gen++
			if r.LabelMap[LabelModelName] != "m" || r.ModelName != "m" || r.Labels != "engine=1,model_name=m" || r.Type != TypeCounter {
				t.Errorf("row = %+v, want labels, map, engine and model columns filled", r)
			}
		}
		if strings.HasSuffix(r.Name, "_created") {
			t.Errorf("_created row written: %+v", r)
		}
	}
	if gen != 6 {
		t.Errorf("%d grid rows of engine 1's generation tokens, want 6", gen)
	}

	s := Summarize(rows)
	// engine 0 makes 100 tokens/s, engine 1 50/s, over 5.5 s with a restart at 3.5 s:
	// 1000→1300 before it, then 50, 150, 200: 300 + 50 + 100 + 50 = 500 (and 250)
	checkFloat(t, "generation tokens", s.GenerationTokens, 750)
	checkFloat(t, "requests finished", s.RequestsFinished, 20)
	checkFloat(t, "length", s.RequestsByReason["length"], 15)
	checkFloat(t, "stop", s.RequestsByReason["stop"], 5)
	checkFloat(t, "mean queue time", s.MeanQueueS, 0.5)
	if s.Restarts != 1 || !s.Exact || s.Scrapes != 6 {
		t.Errorf("restarts %d, exact %v, scrapes %d; want 1 restart seen in an exact window of 6", s.Restarts, s.Exact, s.Scrapes)
	}
	// running: engine 0 counts 0,1,2,3,0,1 over the grid, engine 1 stays at 1
	checkFloat(t, "mean running", s.Running.Mean, 13.0/6)
	checkFloat(t, "max running", s.Running.Max, 4)
	checkFloat(t, "mean waiting", s.Waiting.Mean, 3) // waiting_by_reason (99) not added
	checkFloat(t, "mean KV usage", s.KVCacheUsage.Mean, 0.4)
	checkFloat(t, "max engine KV usage", s.KVCacheUsageMax, 0.6)
	want := Config{Engines: 2, BlockSize: 16, NumGPUBlocks: 1000, NumGPUBlocksTotal: 2000,
		GPUMemoryUtilization: 0.9, MaxNumSeqs: 256, MaxNumBatchedTokens: 8192}
	if diff := cmp.Diff(want, s.Config, cmpopts.IgnoreFields(Config{}, "CacheConfig", "SchedulerConfig")); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if s.Config.CacheConfig[LabelEngine] != "0" {
		t.Errorf("cache config from engine %q, want the first engine", s.Config.CacheConfig[LabelEngine])
	}
}

// checkRowStamps checks the phases, grid indexes and times of the rows.
func checkRowStamps(t *testing.T, start time.Time, rows []results.ServerMetric) {
	t.Helper()
	phases := map[string]int{}
	for _, r := range rows {
		phases[r.Phase]++
		if r.ExpID != "exp-1" {
			t.Fatalf("row of experiment %q", r.ExpID)
		}
		switch r.Phase {
		case results.PhaseBefore:
			if r.Scrape != -1 || r.OffsetNs != 0 || r.TimeUnixNs != start.UnixNano() {
				t.Fatalf("before row stamped %d/%d/%d", r.Scrape, r.OffsetNs, r.TimeUnixNs-start.UnixNano())
			}
		case results.PhaseDuring:
			want := r.Scrape * int64(time.Second)
			if r.OffsetNs != want || r.TimeUnixNs != start.UnixNano()+want {
				t.Fatalf("grid row %d at offset %d, time %+d; want aligned at %d", r.Scrape, r.OffsetNs, r.TimeUnixNs-start.UnixNano(), want)
			}
		case results.PhaseAfter:
			if r.Scrape != -1 || r.OffsetNs != int64(5500*time.Millisecond) {
				t.Fatalf("after row stamped %d/%d", r.Scrape, r.OffsetNs)
			}
		default:
			t.Fatalf("row with phase %q", r.Phase)
		}
	}
	if phases[results.PhaseBefore] == 0 || phases[results.PhaseAfter] != phases[results.PhaseBefore] || phases[results.PhaseDuring] != 6*phases[results.PhaseBefore] {
		t.Errorf("rows per phase = %v, want before = after and 6 grid scrapes", phases)
	}
}

func TestRecorderRecordsFailedScrapes(t *testing.T) {
	t.Parallel()
	_, stats, rows := record(t, 3500*time.Millisecond, func(f *fakeVLLM) {
		f.fail[0] = http.StatusInternalServerError // the before snapshot
		f.hang[2] = true                           // grid point 1
	})
	if stats.BeforeErr == nil || stats.Scrapes != 4 || stats.FailedScrapes != 1 {
		t.Fatalf("stats = %+v, want a failed before snapshot and 1 failed grid scrape of 4", stats)
	}
	var failed []results.ServerMetric
	for _, r := range rows {
		if r.Name == MetricScrapeUp && r.Value == 0 {
			failed = append(failed, r)
		}
	}
	if len(failed) != 2 || failed[0].Phase != results.PhaseBefore || !strings.Contains(failed[0].Error, "500") ||
		failed[1].Scrape != 1 || !strings.Contains(failed[1].Error, "deadline exceeded") {
		t.Fatalf("failed scrape rows = %+v", failed)
	}
	s := Summarize(rows)
	if s.Exact || s.FailedScrapes != 1 {
		t.Errorf("summary exact %v, failed %d; want inexact with 1 failed scrape", s.Exact, s.FailedScrapes)
	}
	// without the before snapshot the first grid scrape (0 s) is the baseline: 3.5 s of growth
	checkFloat(t, "generation tokens", s.GenerationTokens, 150*3.5)
}

func checkFloat(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
