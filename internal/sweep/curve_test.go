package sweep

import (
	"strings"
	"testing"
)

// TestCurveKnee: the knee of ordinary load curves. With two levels it lands on the first when
// the second bought no more throughput, and nowhere (never on the last) when it did; an
// open-loop curve's knee is the highest rate kept up with.
func TestCurveKnee(t *testing.T) {
	t.Parallel()
	closed := func(tps ...float64) []Level {
		out := make([]Level, len(tps))
		for i, x := range tps {
			out[i] = Level{Load: float64(int(1) << i), Throughput: x}
		}
		return out
	}
	open := func(pairs ...[2]float64) []Level {
		out := make([]Level, len(pairs))
		for i, p := range pairs {
			out[i] = Level{Load: p[0], Offered: p[0], Achieved: p[1]}
		}
		return out
	}
	cases := []struct {
		name   string
		levels []Level
		knee   int
		says   string
	}{
		{"two levels, still growing", closed(50, 98), -1, "still grew at the heaviest load (2)"},
		{"two levels, flat", closed(100, 103), 0, "more load than 1 bought at most 5%"},
		{"two levels, falling", closed(100, 80), 0, "more load than 1"},
		{"bends at the third", closed(50, 98, 196, 200, 205), 2, "more load than 4"},
		{"a dip does not hide the plateau", closed(100, 90, 104), 0, "at most 104 above it"},
		{"one level", closed(100), -1, "still grew"},
		{"rates, falls behind at the third", open([2]float64{2, 2}, [2]float64{4, 3.9}, [2]float64{8, 6}), 1, "above it the server fell behind"},
		{"rates, two levels, kept up with both", open([2]float64{2, 2}, [2]float64{4, 4}), -1, "kept up with every rate up to 4"},
		{"rates, behind at both", open([2]float64{2, 1}, [2]float64{4, 1}), 0, "fell behind every rate"},
		{"nothing", nil, -1, "no load level"},
	}
	for _, c := range cases {
		knee, why := CurveKnee(c.levels)
		if knee != c.knee || !strings.Contains(why, c.says) {
			t.Errorf("%s: knee %d (%s), want %d saying %q", c.name, knee, why, c.knee, c.says)
		}
	}
}
