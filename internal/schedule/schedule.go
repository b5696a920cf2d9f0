// Package schedule computes when the requests of an open-loop load are due. Schedules are
// pure: no clocks and no sleeping; the caller waits. Random schedules are drawn once, from a
// seed, when they are made, so the same seed always gives the same arrivals.
package schedule

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Schedule reports when request n (0-based) is due, as an offset from the start; ok is false
// when the schedule has no request n.
type Schedule interface {
	At(n uint64) (due time.Duration, ok bool)
}

// Arrival processes.
const (
	KindConstant = "constant" // evenly spaced
	KindPoisson  = "poisson"  // exponential inter-arrival times
	KindGamma    = "gamma"    // gamma inter-arrival times; shape = burstiness
)

// Constant spaces requests evenly: request n is due at Offset + n/PerSecond.
type Constant struct {
	PerSecond float64
	Offset    time.Duration
}

// At implements Schedule.
func (c Constant) At(n uint64) (time.Duration, bool) {
	if c.PerSecond <= 0 {
		return 0, false
	}
	return c.Offset + time.Duration(float64(n)/c.PerSecond*float64(time.Second)), true
}

// Arrivals is a schedule drawn in advance: the due times of every request before a horizon.
type Arrivals []time.Duration

// At implements Schedule.
func (a Arrivals) At(n uint64) (time.Duration, bool) {
	if n >= uint64(len(a)) {
		return 0, false
	}
	return a[n], true
}

// Options describe an open-loop schedule.
type Options struct {
	Kind      string        // constant | poisson | gamma; "" is poisson
	PerSecond float64       // mean request rate
	Shape     float64       // gamma's shape ("burstiness"): 1 is Poisson, < 1 burstier, > 1 more regular
	Seed      uint64        // random schedules only
	Horizon   time.Duration // random schedules are drawn up to here
	// Count, when positive, draws exactly Count arrivals instead (Horizon is then ignored): a
	// load that ends after a number of requests, as vllm bench serve's --num-prompts.
	Count int
	// Offset shifts a constant schedule; several workers sharing one constant rate use offsets
	// i/(total rate) so that together they stay evenly spaced.
	Offset time.Duration
}

// ErrInvalid is returned for options that describe no schedule.
var ErrInvalid = errors.New("invalid schedule")

// maxArrivals bounds what New draws (8 bytes each): an hour at 10,000 requests/s.
const maxArrivals = 36_000_000

// New makes the schedule the options describe. Gamma inter-arrival times have mean
// 1/PerSecond and coefficient of variation 1/sqrt(Shape), as vLLM's --burstiness.
func New(o Options) (Schedule, error) {
	if !(o.PerSecond > 0) || math.IsInf(o.PerSecond, 0) {
		return nil, fmt.Errorf("%w: rate %v requests/s: want a positive rate", ErrInvalid, o.PerSecond)
	}
	switch o.Kind {
	case KindConstant:
		return Constant{PerSecond: o.PerSecond, Offset: o.Offset}, nil
	case "", KindPoisson:
		return draw(o, 1)
	case KindGamma:
		if !(o.Shape > 0) || math.IsInf(o.Shape, 0) {
			return nil, fmt.Errorf("%w: burstiness %v: want a positive gamma shape", ErrInvalid, o.Shape)
		}
		return draw(o, o.Shape)
	}
	return nil, fmt.Errorf("%w: arrival %q: want constant, poisson or gamma", ErrInvalid, o.Kind)
}

func draw(o Options, shape float64) (Arrivals, error) {
	if o.Count > maxArrivals {
		return nil, fmt.Errorf("%w: %d requests, more than %d", ErrInvalid, o.Count, maxArrivals)
	}
	if o.Count <= 0 && o.Horizon <= 0 {
		return nil, fmt.Errorf("%w: a random schedule needs a positive horizon", ErrInvalid)
	}
	expected := o.PerSecond * o.Horizon.Seconds()
	if o.Count > 0 {
		expected = float64(o.Count)
	}
	if o.Count <= 0 && expected > maxArrivals {
		return nil, fmt.Errorf("%w: %.0f requests/s for %s is %.3g requests, more than %d", ErrInvalid,
			o.PerSecond, o.Horizon, expected, maxArrivals)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	scale := float64(time.Second) / (o.PerSecond * shape) // gamma scale θ so that mean = kθ = 1/rate
	out := make(Arrivals, 0, int(expected+4*math.Sqrt(expected)+16))
	t := 0.0
	for {
		if shape == 1 {
			t += rng.ExpFloat64() * scale
		} else {
			t += Gamma(rng, shape) * scale
		}
		if o.Count <= 0 && t >= float64(o.Horizon) || o.Count > 0 && len(out) == o.Count {
			return out, nil
		}
		out = append(out, time.Duration(t))
	}
}

// Gamma draws from the gamma distribution with the given shape and scale 1, by Marsaglia and
// Tsang's method ("A simple method for generating gamma variables", 2000), boosted for
// shape < 1 with U^(1/shape).
func Gamma(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := rng.Float64()
		for u == 0 {
			u = rng.Float64()
		}
		return Gamma(rng, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || (u > 0 && math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v))) {
			return d * v
		}
	}
}
