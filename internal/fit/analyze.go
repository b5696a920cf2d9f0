package fit

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// Options tune the bootstrap. The zero value uses the defaults.
type Options struct {
	// Resamples is the number of bootstrap resamples; 0 means DefaultResamples.
	Resamples int
	// Confidence is the level of the intervals, in (0, 1); 0 means DefaultConfidence.
	Confidence float64
}

func (o Options) check(rng *rand.Rand) error {
	var errs []error
	if rng == nil {
		errs = append(errs, errors.New("no random source for the bootstrap (rng is nil)"))
	}
	if o.Resamples < 0 {
		errs = append(errs, fmt.Errorf("resamples %d must be 0 (default %d) or more", o.Resamples, DefaultResamples))
	}
	if o.Confidence < 0 || o.Confidence >= 1 {
		errs = append(errs, fmt.Errorf("confidence %v must be in (0, 1), e.g. 0.95 (0 means the default)", o.Confidence))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.Resamples == 0 {
		o.Resamples = DefaultResamples
	}
	if o.Confidence == 0 {
		o.Confidence = DefaultConfidence
	}
	return o
}

// Result is every scaling fit of one series.
type Result struct {
	Name string
	// Scaling is speedup and efficiency per GPU count, smallest first; Baseline is the smallest
	// GPU count, and Normalisation says in words how speedup is normalised.
	Scaling       []Scaling
	Baseline      int
	Normalisation string
	Amdahl        AmdahlResult
	Gustafson     []GustafsonPoint
	USL           USLResult // Fitted false, with a Reason, below MinUSLGPUCounts GPU counts
	KarpFlatt     KarpFlattResult
}

// Analyze runs every fit on s. rng drives the bootstrap only; the same seed gives the same
// result. It fails, with ErrInvalidPoint or ErrTooFewGPUCounts, on a point with GPUs < 1 or a
// throughput that is not finite and positive, or a series with fewer than two GPU counts; a
// series too short for USL or a Karp–Flatt trend is not an error (the results say why).
func Analyze(s Series, rng *rand.Rand, opts Options) (Result, error) {
	lv, err := levels(s)
	if err != nil {
		return Result{}, err
	}
	if err := opts.check(rng); err != nil {
		return Result{}, fmt.Errorf("fit series %q: %w", s.Name, err)
	}
	opts = opts.withDefaults()
	res := Result{Name: s.Name, Scaling: speedups(lv), Baseline: lv[0].n, Normalisation: normalisation(lv[0].n)}
	res.Amdahl = amdahl(s, lv, rng, opts)
	res.Gustafson = gustafsonPoints(lv, res.Amdahl)
	res.USL = usl(s, lv)
	res.KarpFlatt = KarpFlatt(res.Scaling)
	return res, nil
}
