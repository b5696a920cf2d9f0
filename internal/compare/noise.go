package compare

import (
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/fit"
	"github.com/llmscale/llmscale/internal/results"
)

// Noise methods, in the order they are tried.
const (
	NoiseRepeats   = "repeats"   // both sides have ≥ 2 repeats: Welch's t interval of the difference
	NoiseBootstrap = "bootstrap" // request files on both sides: bootstrap over requests
	NoiseUnknown   = "unknown"   // one run a side and no request files: the change cannot be judged
)

// welch is the half-width of the conf interval of mean(b) − mean(a) from repeats.
func welch(a, b []float64, conf float64) float64 {
	va, vb := variance(a)/float64(len(a)), variance(b)/float64(len(b))
	se := math.Sqrt(va + vb)
	if se == 0 {
		return 0
	}
	df := (va + vb) * (va + vb) / (va*va/float64(len(a)-1) + vb*vb/float64(len(b)-1))
	return fit.StudentQuantile2(conf, int(math.Floor(df))) * se
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// variance is the sample variance (n − 1).
func variance(v []float64) float64 {
	m, s := mean(v), 0.0
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return s / float64(len(v)-1)
}

// bootstrapper estimates, per experiment, the standard error of every metric by resampling its
// requests with replacement and summarising each resample as aggregate does. Results are
// cached per row; a row without request files has no estimate.
type bootstrapper struct {
	resamples int
	seed      uint64
	metrics   []string
	cache     map[*aggregate.Row]map[string]float64
}

func newBootstrapper(resamples int, seed uint64, metrics []string) *bootstrapper {
	return &bootstrapper{resamples: resamples, seed: seed, metrics: metrics, cache: map[*aggregate.Row]map[string]float64{}}
}

// se returns the bootstrap standard error of metric for row r of the tree at root; ok is
// false when there are no request files (or no value in the resamples).
func (b *bootstrapper) se(root string, r *aggregate.Row, metric string) (float64, bool) {
	if b.resamples <= 0 {
		return 0, false
	}
	m, done := b.cache[r]
	if !done {
		m = b.estimate(root, r)
		b.cache[r] = m
	}
	v, ok := m[metric]
	return v, ok
}

func (b *bootstrapper) estimate(root string, r *aggregate.Row) map[string]float64 {
	dir := results.Dir(root, r.ExpID)
	exp, err := results.ReadExperiment(dir)
	if err != nil {
		return nil
	}
	reqs, err := results.ReadRequestsDir(dir)
	if err != nil || len(reqs) == 0 {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte(r.ExpID))
	rng := rand.New(rand.NewPCG(b.seed, h.Sum64()))
	cols := columnsOf()
	samples := map[string][]float64{}
	buf := make([]results.Request, len(reqs))
	for range b.resamples {
		for i := range buf {
			buf[i] = reqs[rng.IntN(len(reqs))]
		}
		res := aggregate.Row{Mode: r.Mode, GPUs: r.GPUs}
		if aggregate.FillRequests(&res, buf, exp) != nil {
			return nil
		}
		for _, name := range b.metrics {
			if v, ok := cols[name].number(&res); ok && !math.IsNaN(v) {
				samples[name] = append(samples[name], v)
			}
		}
	}
	out := map[string]float64{}
	for name, v := range samples {
		if len(v) == b.resamples {
			out[name] = math.Sqrt(variance(v))
		}
	}
	return out
}
