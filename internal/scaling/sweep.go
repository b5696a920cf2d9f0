package scaling

import (
	"cmp"
	"slices"

	"github.com/llmscale/llmscale/internal/aggregate"
)

// sweepKnee is the point of a configuration whose load was swept (matrix factor sweep): the
// knee the sweep found is its capacity, the highest rate it kept up with, rather than the
// best throughput of any point (the throughput point overloads the server on purpose, at a
// latency no one would serve at). With several sweeps (levels of factors.sweep) the best
// knee wins. ok is false when no row is a sweep's knee.
func sweepKnee(rs []*aggregate.Row, k configKey) (Point, bool) {
	var knees []*aggregate.Row
	for _, r := range rs {
		if r.SweepKnee {
			knees = append(knees, r)
		}
	}
	if len(knees) == 0 {
		return Point{}, false
	}
	b := slices.MaxFunc(knees, func(a, b *aggregate.Row) int { return cmp.Compare(*a.OutputThroughput, *b.OutputThroughput) })
	return Point{GPUs: k.gpus, Repeat: k.repeat, Throughput: *b.OutputThroughput, ExpID: b.ExpID, LoadLevel: b.LoadLevel,
		Levels: len(rs), Saturated: true, SaturatedBy: "sweep knee " + b.ExpID + ": " + b.SweepKneeReason}, true
}
