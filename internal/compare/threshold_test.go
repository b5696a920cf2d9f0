package compare

import (
	"math"
	"strings"
	"testing"
)

func TestParseThresholds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		spec    string
		want    []Threshold
		wantErr string
	}{
		{spec: "p99_ttft_ms>+10%", want: []Threshold{{Metric: "ttft_ms_p99", Op: ">", Value: 10, Kind: ThresholdRelative}}},
		{spec: "output_throughput_tps<-5%, ttft_ms_p50>=+20", want: []Threshold{
			{Metric: "output_throughput_tps", Op: "<", Value: -5, Kind: ThresholdRelative},
			{Metric: "ttft_ms_p50", Op: ">=", Value: 20, Kind: ThresholdDelta}}},
		{spec: "e2e_ms_p99<=5000", want: []Threshold{{Metric: "e2e_ms_p99", Op: "<=", Value: 5000, Kind: ThresholdAbsolute}}},
		{spec: "mean_tpot_ms > 50", want: []Threshold{{Metric: "tpot_ms_mean", Op: ">", Value: 50, Kind: ThresholdAbsolute}}},
		{spec: "", wantErr: "no condition"},
		{spec: "ttft_ms_p99=5", wantErr: "METRIC OP VALUE"},
		{spec: ">5", wantErr: "METRIC OP VALUE"},
		{spec: "ttft_ms_p99>fast", wantErr: "not a number"},
		{spec: "ttft_ms_p99>NaN", wantErr: "not a number"},
		{spec: "nonsense>5", wantErr: "unknown metric"},
		{spec: "model>5", wantErr: "not a number"},
	}
	for _, c := range cases {
		got, err := ParseThresholds(c.spec)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseThresholds(%q) error %v, want %q", c.spec, err, c.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Fatalf("ParseThresholds(%q) = %+v, %v; want %+v", c.spec, got, err, c.want)
		}
		for i := range got {
			got[i].Text = ""
			if got[i] != c.want[i] {
				t.Errorf("ParseThresholds(%q)[%d] = %+v, want %+v", c.spec, i, got[i], c.want[i])
			}
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	mk := func(metric string, a, b, noise float64) Change {
		return Change{Metric: metric, A: a, B: b, NA: 1, NB: 1, Delta: b - a, Rel: (b - a) / a, Noise: noise,
			Method: NoiseBootstrap, Beyond: math.Abs(b-a) > noise, Comparable: true}
	}
	res := Result{Points: []PointResult{
		{Label: "p1", Changes: []Change{mk("ttft_ms_p99", 100, 115, 2), mk("output_throughput_tps", 1000, 990, 50)}},
		{Label: "p2", Changes: []Change{mk("ttft_ms_p99", 100, 108, 20), mk("output_throughput_tps", 1000, 900, 5)}},
	}}
	cases := []struct {
		spec        string
		significant bool
		violations  []string // points
		unchecked   int
	}{
		{spec: "ttft_ms_p99>+10%", violations: []string{"p1"}},
		{spec: "ttft_ms_p99>+5%", violations: []string{"p1", "p2"}},
		{spec: "ttft_ms_p99>+5%", significant: true, violations: []string{"p1"}}, // p2's +8% is within ±20
		{spec: "output_throughput_tps<-5%", violations: []string{"p2"}},
		{spec: "ttft_ms_p99>+12", violations: []string{"p1"}},
		{spec: "ttft_ms_p99>=115", violations: []string{"p1"}},
		{spec: "ttft_ms_p99>200"},
		{spec: "e2e_ms_p99>+10%", unchecked: 1},
	}
	for _, c := range cases {
		ts, err := ParseThresholds(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		rep := Check(res, ts, c.significant)
		var pts []string
		for _, v := range rep.Violations {
			pts = append(pts, v.Point)
		}
		if strings.Join(pts, ",") != strings.Join(c.violations, ",") || len(rep.Unchecked) != c.unchecked {
			t.Errorf("%q (significant %v): violations at %v, %d unchecked; want %v, %d", c.spec, c.significant, pts,
				len(rep.Unchecked), c.violations, c.unchecked)
		}
		if rep.Failed() != (len(c.violations)+c.unchecked > 0) {
			t.Errorf("%q: Failed() = %v", c.spec, rep.Failed())
		}
	}
}

func FuzzParseThresholds(f *testing.F) {
	for _, s := range []string{"p99_ttft_ms>+10%", "output_throughput_tps<-5%,ttft_ms_p50>=+20", "e2e_ms_p99<=5000", ">", "a<b", "x>1e400%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ts, err := ParseThresholds(spec)
		if err != nil {
			return
		}
		for _, th := range ts {
			if th.Metric == "" || math.IsNaN(th.Value) || math.IsInf(th.Value, 0) {
				t.Fatalf("ParseThresholds(%q) gave %+v", spec, th)
			}
			switch th.Op {
			case ">", ">=", "<", "<=":
			default:
				t.Fatalf("ParseThresholds(%q) gave operator %q", spec, th.Op)
			}
		}
	})
}

func FuzzParseSide(f *testing.F) {
	for _, s := range []string{"results", "r@tp=1,dp=2", "@", "a@b@c=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		s, err := ParseSide(arg)
		if err == nil && s.Root == "" {
			t.Fatalf("ParseSide(%q) gave an empty root", arg)
		}
	})
}
