package resultstree

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/llmscale/llmscale/internal/fit"
)

func TestFromFit(t *testing.T) {
	t.Parallel()
	s := fit.Series{Name: "tp"}
	for _, n := range []int{1, 2, 4, 8} {
		for r := range 2 {
			s.Points = append(s.Points, fit.Point{GPUs: n, Throughput: fit.AmdahlThroughput(100, 0.1, float64(n)) * (1 + 0.01*float64(r)), Repeat: r})
		}
	}
	res, err := fit.Analyze(s, rand.New(rand.NewPCG(3, 4)), fit.Options{Resamples: 200})
	if err != nil {
		t.Fatal(err)
	}
	got := FromFit(res)
	if got.Name != "tp" || got.Baseline != 1 || len(got.Points) != 4 {
		t.Fatalf("FromFit = %+v", got)
	}
	if got.Points[0].KarpFlatt != nil || got.Points[1].KarpFlatt == nil || got.Points[3].SD == nil {
		t.Errorf("Karp–Flatt must be absent at the baseline only, SD present with repeats: %+v", got.Points)
	}
	if got.Amdahl == nil || math.Abs(got.Amdahl.S-0.1) > 0.02 || got.Amdahl.SLo == nil || *got.Amdahl.SLo > got.Amdahl.S {
		t.Errorf("Amdahl = %+v, want s ≈ 0.1 with its interval", got.Amdahl)
	}
	if got.USL.Fitted || got.USL.Reason == "" {
		t.Errorf("USL with 4 GPU counts must say why it is absent, got %+v", got.USL)
	}
	if _, err := json.Marshal(got); err != nil {
		t.Errorf("FromFit's series is not JSON-serialisable: %v", err)
	}
}
