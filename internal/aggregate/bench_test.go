package aggregate

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

// BenchmarkExperiment aggregates one experiment of n requests of 128 tokens (one chunk per
// token) with the server metrics of one replica.
//
//	go test ./internal/aggregate -run '^$' -bench Experiment -benchmem -count 6
func BenchmarkExperiment(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		e := windowExperiment("bench")
		e.Load.RunTimeNs = int64(60 * time.Second)
		dir := results.Dir(b.TempDir(), e.ID)
		if err := results.WriteExperiment(dir, e); err != nil {
			b.Fatal(err)
		}
		rows := make([]results.Request, n)
		itl := make([]int64, 127)
		for i := range itl {
			itl[i] = 10 * ms
		}
		for i := range rows {
			sent := 1000 + int64(i)*60000/int64(n)
			rows[i] = ok(int64(i), sent, 100, 1370, 128, 200, itl...)
			rows[i].Phase = results.PhaseMeasure
		}
		if err := results.WriteParquet(filepath.Join(dir, "requests.parquet"), rows); err != nil {
			b.Fatal(err)
		}
		if err := results.WriteParquet(filepath.Join(dir, results.ServerMetricsFile), replica{running: 64, maxNumSeqs: 64}.rows()); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Experiment(dir, TreeInfo{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
