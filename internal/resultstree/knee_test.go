package resultstree

import (
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/results"
)

// TestLoadCurveSaturation: the saturation mark of a load curve is its knee. With two load
// levels it lands on the first when the second bought nothing, and nowhere when throughput
// still grew; a rate curve marks the highest rate kept up with, judged on the rate due in the
// window; a sweep marks the knee aggregate found, at its load level.
func TestLoadCurveSaturation(t *testing.T) {
	t.Parallel()
	row := func(mode string, level, rps, tps float64) aggregate.Row {
		r := aggregate.Row{ExpID: mode, Status: results.StatusDone, Repeat: 1, Mode: mode, LoadLevel: level, Rate: level,
			RequestThroughput: aggregate.F(rps), OutputThroughput: aggregate.F(tps)}
		if mode == "rate" {
			r.ScheduledRate = aggregate.F(level * 1.02)
		}
		return r
	}
	knee := row("sweep", 6.5, 6.4, 640)
	knee.SweepKnee, knee.SweepKneeReason = true, "highest rate completed at ≥ 95%"
	cases := []struct {
		name string
		rows []aggregate.Row
		want float64 // 0: no mark
		says string
	}{
		{"two levels, flat", []aggregate.Row{row("users", 8, 10, 1000), row("users", 64, 10.2, 1030)}, 8, "more load than 8"},
		{"two levels, growing", []aggregate.Row{row("users", 8, 10, 1000), row("users", 64, 30, 3000)}, 0, "still grew"},
		{"rates", []aggregate.Row{row("rate", 2, 2.04, 200), row("rate", 4, 4, 400), row("rate", 8, 5, 500)}, 4, "above it the server fell behind"},
		{"sweep", []aggregate.Row{row("sweep", 1, 1, 100), row("sweep", 9, 9, 900), knee, row("sweep", 8, 7, 700)}, 6.5, "≥ 95%"},
	}
	for _, c := range cases {
		var rs []*aggregate.Row
		for i := range c.rows {
			rs = append(rs, &c.rows[i])
		}
		lc := loadCurve(rs)
		got := 0.0
		if lc.Saturation != nil {
			got = *lc.Saturation
		}
		if got != c.want || !strings.Contains(lc.SaturationReason, c.says) {
			t.Errorf("%s: saturation %g (%s), want %g saying %q", c.name, got, lc.SaturationReason, c.want, c.says)
		}
	}
}
