package reportdata

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/llmscale/llmscale/internal/fit"
)

func TestCDFFromSamples(t *testing.T) {
	t.Parallel()
	t.Run("few samples: the exact empirical CDF", func(t *testing.T) {
		t.Parallel()
		got := CDFFromSamples([]float64{30, 10, math.NaN(), 20, math.Inf(1)}, 10)
		want := CDF{P: Values{1.0 / 3, 2.0 / 3, 1}, Ms: Values{10, 20, 30}}
		if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
			t.Errorf("CDF (-want +got):\n%s", diff)
		}
	})
	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		if got := CDFFromSamples(nil, 0); len(got.P) != 0 || len(got.Ms) != 0 {
			t.Errorf("CDF of nothing = %+v, want empty", got)
		}
	})
	t.Run("many samples: quantiles, tail kept", func(t *testing.T) {
		t.Parallel()
		rng := rand.New(rand.NewPCG(1, 2))
		xs := make([]float64, 100000)
		for i := range xs {
			xs[i] = float64(i + 1) // 1 … 100000, shuffled
		}
		rng.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
		c := CDFFromSamples(xs, 0)
		if len(c.P) != MaxCDFPoints || len(c.Ms) != MaxCDFPoints {
			t.Fatalf("got %d/%d points, want %d", len(c.P), len(c.Ms), MaxCDFPoints)
		}
		if !slices.IsSorted(c.P) || !slices.IsSorted(c.Ms) || c.P[0] <= 0 {
			t.Errorf("quantiles are not ascending in (0, 1]")
		}
		if last := len(c.P) - 1; c.P[last] != 1 || c.Ms[last] != 100000 {
			t.Errorf("last point = (%v, %v), want (1, the maximum 100000)", c.P[last], c.Ms[last])
		}
		for i, p := range c.P { // the empirical inverse of 1…n is ceil(p·n)
			if want := math.Ceil(p * 100000); c.Ms[i] != want {
				t.Errorf("quantile %v = %v, want %v", p, c.Ms[i], want)
			}
		}
		var tail int
		for _, p := range c.P {
			if p > 0.99 {
				tail++
			}
		}
		if tail < 20 {
			t.Errorf("%d points above p99, want the tail drawn in detail (≥ 20)", tail)
		}
	})
}

func TestDownsampleTimeline(t *testing.T) {
	t.Parallel()
	n := 1000
	tl := Timeline{GPUUtil: nil, MeasureFrom: Opt(10)}
	for i := range n {
		tl.OffsetS = append(tl.OffsetS, float64(i))
		tl.Running = append(tl.Running, float64(i%2)) // alternates 0, 1: bucket means 0.5
		tl.Waiting = append(tl.Waiting, math.NaN())
		tl.KVUsage = append(tl.KVUsage, 0.5)
	}
	tl.KVUsage[0] = math.NaN() // ignored in its bucket's mean
	got := DownsampleTimeline(tl, 100)
	for name, col := range map[string]Values{"offset": got.OffsetS, "running": got.Running, "waiting": got.Waiting, "kv": got.KVUsage} {
		if len(col) != 100 {
			t.Errorf("%s has %d samples, want 100", name, len(col))
		}
	}
	if got.GPUUtil != nil || got.RequestRate != nil {
		t.Errorf("absent columns must stay nil")
	}
	if got.OffsetS[0] != 4.5 || got.Running[0] != 0.5 || got.KVUsage[0] != 0.5 || !math.IsNaN(got.Waiting[0]) {
		t.Errorf("first bucket = t %v, running %v, kv %v, waiting %v; want 4.5, 0.5, 0.5, NaN",
			got.OffsetS[0], got.Running[0], got.KVUsage[0], got.Waiting[0])
	}
	if *got.MeasureFrom != 10 {
		t.Errorf("measured window lost")
	}
	if short := DownsampleTimeline(Timeline{OffsetS: Values{1, 2}}, 0); len(short.OffsetS) != 2 {
		t.Errorf("a short timeline must be kept as it is")
	}
}

func TestValuesJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Values{1, math.NaN(), math.Inf(-1), 2.5})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "[1,null,null,2.5]" {
		t.Errorf("marshal = %s, want [1,null,null,2.5]", b)
	}
	var v Values
	if err := json.Unmarshal([]byte("[1,null,3]"), &v); err != nil {
		t.Fatal(err)
	}
	if len(v) != 3 || v[0] != 1 || !math.IsNaN(v[1]) || v[2] != 3 {
		t.Errorf("unmarshal = %v, want [1 NaN 3]", v)
	}
	if err := json.Unmarshal([]byte(`["x"]`), &v); err == nil {
		t.Errorf("a string must not decode as a value")
	}
	if b, _ := json.Marshal(Values(nil)); string(b) != "null" {
		t.Errorf("nil values = %s, want null", b)
	}
}

func FuzzValuesJSON(f *testing.F) {
	for _, s := range []string{"[1,null,3]", "[]", "null", `[1e308, -0, 5e-324]`, `["x"]`, `[[1]]`, `{"a":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v Values
		if err := json.Unmarshal(b, &v); err != nil {
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode it: %v", b, err)
		}
		var again Values
		if err := json.Unmarshal(out, &again); err != nil || len(again) != len(v) {
			t.Fatalf("round trip of %q: %v, %d values, want %d", b, err, len(again), len(v))
		}
	})
}

func TestCurves(t *testing.T) {
	t.Parallel()
	a := AmdahlCurve(1000, 0.1, 8)
	if a[0] != (XY{X: 1, Y: 1000}) || len(a) != curvePoints+1 {
		t.Errorf("Amdahl curve starts at %+v with %d points, want {1 1000} and %d", a[0], len(a), curvePoints+1)
	}
	if last := a[len(a)-1]; last.X != 8 || math.Abs(last.Y-8000/1.7) > 0.01 {
		t.Errorf("Amdahl X(8) = %+v, want 8000/1.7", last)
	}
	u := USLCurve(1000, 0.05, 0.01, 10)
	if last := u[len(u)-1]; math.Abs(last.Y-fit.USLThroughput(1000, 0.05, 0.01, 10)) > 0.01 {
		t.Errorf("USL X(10) = %v, want fit.USLThroughput's", last.Y)
	}
	if c := AmdahlCurve(1, 0, math.NaN()); len(c) == 0 || c[len(c)-1].X != 1 {
		t.Errorf("a curve to a NaN GPU count must stop at 1, got %v", c)
	}
}
