package scaling

import (
	"errors"
	"hash/fnv"
	"math/rand/v2"

	"github.com/llmscale/llmscale/internal/fit"
)

// DefaultSeed seeds the bootstrap when the caller gives none; it is recorded with the fits.
const DefaultSeed uint64 = 20240611

// Fit statuses.
const (
	StatusOK        = "ok"
	StatusNotFitted = "not_fitted" // the series could not be fitted; Reason says why
)

// Fit is one series and its fits.
type Fit struct {
	Series Series
	Result fit.Result // zero when Status is not ok
	Status string
	Reason string
	// Seed is the seed of this series' bootstrap stream: the campaign seed and a hash of the
	// series name, so adding a series does not change the others' intervals.
	Seed uint64
	Hash uint64
}

// Options tune the fits.
type Options struct {
	Seed uint64      // 0 means DefaultSeed
	Fit  fit.Options // bootstrap size and confidence
}

// FitAll fits every series. A series that cannot be fitted (an invalid point) keeps its place
// with the reason.
func FitAll(ss []Series, o Options) []Fit {
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	out := make([]Fit, 0, len(ss))
	for _, s := range ss {
		h := nameHash(s.Name)
		f := Fit{Series: s, Seed: o.Seed, Hash: h, Status: StatusOK}
		res, err := fit.Analyze(s.FitSeries(), rand.New(rand.NewPCG(o.Seed, h)), o.Fit)
		if err != nil {
			f.Status, f.Reason = StatusNotFitted, err.Error()
			if errors.Is(err, fit.ErrTooFewGPUCounts) {
				f.Reason = "fewer than two GPU counts: " + err.Error()
			}
		} else {
			f.Result = res
		}
		out = append(out, f)
	}
	return out
}

func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// FitSeries is the series as package fit takes it.
func (s Series) FitSeries() fit.Series {
	fs := fit.Series{Name: s.Name}
	for _, p := range s.Points {
		fs.Points = append(fs.Points, fit.Point{GPUs: p.GPUs, Throughput: p.Throughput, Repeat: p.Repeat})
	}
	return fs
}

// FromTable turns the series of a user's table (fit.ParseTable) into series. Nothing is known
// about saturation there: every point says so.
func FromTable(ts []fit.Series) []Series {
	out := make([]Series, 0, len(ts))
	for _, t := range ts {
		s := Series{Name: t.Name, Strategy: StrategyTable, StrategyLabel: "table"}
		for _, p := range t.Points {
			s.Points = append(s.Points, Point{GPUs: p.GPUs, Repeat: p.Repeat, Throughput: p.Throughput, Levels: 1,
				SaturatedBy: "unknown: a user's table"})
		}
		out = append(out, s)
	}
	return out
}
