package sweep

import (
	"strings"
	"testing"
)

func TestRates(t *testing.T) {
	t.Parallel()
	got, err := Rates(2, 10, 3)
	if err != nil || len(got) != 3 || got[0] != 4 || got[1] != 6 || got[2] != 8 {
		t.Errorf("Rates(2, 10, 3) = %v, %v; want [4 6 8]", got, err)
	}
	for _, c := range []struct {
		sync, max float64
		n         int
		want      string
	}{{0, 10, 3, "positive"}, {5, 5, 3, "not above"}, {2, 10, 0, "at least one"}} {
		if _, err := Rates(c.sync, c.max, c.n); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Rates(%g, %g, %d) error %v, want %q", c.sync, c.max, c.n, err, c.want)
		}
	}
}

func TestKnee(t *testing.T) {
	t.Parallel()
	base := []Point{{Name: "sync", Achieved: 2}, {Name: "throughput", Achieved: 10}}
	cases := []struct {
		name  string
		rates [][2]float64 // offered, achieved
		knee  int
		says  string
	}{
		{"falls behind above 6", [][2]float64{{4, 4}, {6, 5.9}, {8, 7}}, 3, "above it"},
		{"keeps up everywhere", [][2]float64{{4, 4}, {6, 6}, {8, 8}}, 4, "between 8 req/s and the throughput"},
		{"behind everywhere", [][2]float64{{4, 3}, {6, 3}}, 0, "fell behind every rate"},
		{"two levels, the second behind", [][2]float64{{4, 4}, {6, 4.1}}, 2, "above it"},
	}
	for _, c := range cases {
		pts := append([]Point(nil), base...)
		for _, r := range c.rates {
			pts = append(pts, Point{Name: "rate", Offered: r[0], Achieved: r[1]})
		}
		knee, why := Knee(pts)
		if knee != c.knee || !strings.Contains(why, c.says) {
			t.Errorf("%s: knee %d (%s), want %d saying %q", c.name, knee, why, c.knee, c.says)
		}
	}
}
