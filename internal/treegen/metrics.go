package treegen

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/promscrape"
	"github.com/llmscale/llmscale/internal/results"
)

// sampleSpec is one series of the replayed exposition and how it moves between scrapes.
type sampleSpec struct {
	sample promscrape.Sample
	grows  bool // a counter, or a histogram's or summary's cumulative series: only grows
}

// parseExposition reads the /metrics body every scrape replays; nil for none.
func parseExposition(body []byte) ([]sampleSpec, error) {
	if body == nil {
		return nil, nil
	}
	samples, err := promscrape.Parse(body, "text/plain; version=0.0.4")
	if err != nil {
		return nil, fmt.Errorf("treegen: exposition: %w", err)
	}
	out := make([]sampleSpec, len(samples))
	for i, s := range samples {
		cumulative := s.Type == promscrape.TypeHistogram || (s.Type == promscrape.TypeSummary && !hasLabel(s, "quantile"))
		out[i] = sampleSpec{sample: s, grows: s.Type == promscrape.TypeCounter || cumulative}
	}
	return out, nil
}

func hasLabel(s promscrape.Sample, name string) bool {
	for _, l := range s.Labels {
		if l.Name == name {
			return true
		}
	}
	return false
}

// serverMetrics are the rows a Recorder writes for one experiment: a before snapshot, scrapes
// on the grid over the window, an after snapshot.
func serverMetrics(rng *rand.Rand, e results.Experiment, specs []sampleSpec, scrapes int) []results.ServerMetric {
	values := make([]float64, len(specs))
	steps := make([]float64, len(specs))
	for i, s := range specs {
		values[i] = s.sample.Value
		steps[i] = rng.Float64() * (1 + s.sample.Value/100)
	}
	interval := runTime / time.Duration(max(scrapes, 1))
	start := e.MeasureFrom
	var rows []results.ServerMetric
	scrape := func(phase string, seq int64, at time.Time) {
		snap := promscrape.Snapshot{Time: at, Duration: 3 * time.Millisecond, Samples: move(rng, specs, values, steps)}
		rows = append(rows, promscrape.Rows(e.ID, phase, seq, at, start, snap, nil)...)
	}
	scrape(results.PhaseBefore, -1, start.Add(-50*time.Millisecond))
	for k := range scrapes {
		scrape(results.PhaseDuring, int64(k), start.Add(time.Duration(k)*interval))
	}
	scrape(results.PhaseAfter, -1, start.Add(runTime+50*time.Millisecond))
	return rows
}

// move advances every series by one scrape and returns the samples with their new values:
// counters grow by their step, gauges take a value around their step.
func move(rng *rand.Rand, specs []sampleSpec, values, steps []float64) []promscrape.Sample {
	out := make([]promscrape.Sample, len(specs))
	for i, s := range specs {
		out[i] = s.sample
		switch {
		case s.grows:
			values[i] += steps[i] * (0.5 + rng.Float64())
		case strings.HasSuffix(s.sample.Name, "_info"):
		default:
			values[i] = steps[i] * 10 * rng.Float64()
		}
		out[i].Value = values[i]
	}
	return out
}
