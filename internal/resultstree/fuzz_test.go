package resultstree

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/results"
)

// FuzzExperimentFiles gives an experiment's raw files arbitrary bytes (seeded with the fixed
// tree's real files, whole and cut short): building its CDFs and timeline must end with data
// or a named problem, never a panic or a hang. The seeds are real files of 20 kB, whose
// minimisation is slow; bound it:
//
//	go test ./internal/resultstree -run '^$' -fuzz FuzzExperimentFiles -fuzztime 60s -fuzzminimizetime 5s
func FuzzExperimentFiles(f *testing.F) {
	const treeDir = "../../testdata/report/tree" // a real simulator campaign (internal/report's tests make it)
	seedDir := filepath.Join(treeDir, results.RawDir, "tree_G1_TP1_DP1_U2_rand64x16_O16_B8")
	for _, name := range []string{"requests.parquet", results.ServerMetricsFile} {
		b, err := os.ReadFile(filepath.Join(seedDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, b)
		f.Add(name, b[:len(b)/2])
		f.Add(name, b[len(b)/3:])
	}
	f.Add(results.GPUFile, []byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		switch name {
		case "requests.parquet", results.ServerMetricsFile, results.GPUFile:
		default:
			name = "requests.parquet"
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		rec := &results.Experiment{StartedAt: start, EndedAt: start.Add(3 * time.Second),
			Load: results.LoadInfo{WarmupNs: 5e8, RunTimeNs: 2e9}}
		var e reportdata.Experiment
		readExperimentFiles(dir, rec, &aggregate.Row{ExpID: "x"}, &e)
		if e.Timeline != nil && len(e.Timeline.OffsetS) > reportdata.MaxTimelinePoints {
			t.Errorf("timeline of %d points", len(e.Timeline.OffsetS))
		}
		if len(e.TTFT.P) > reportdata.MaxCDFPoints || len(e.ITL.P) > reportdata.MaxCDFPoints || len(e.E2E.P) > reportdata.MaxCDFPoints {
			t.Errorf("CDFs of %d, %d, %d points", len(e.TTFT.P), len(e.ITL.P), len(e.E2E.P))
		}
	})
}
