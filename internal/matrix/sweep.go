package matrix

import (
	"fmt"
	"iter"
	"strings"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/sweep"
)

// Stages of a sweep, in the order they run: one request at a time, load.sweep_max_concurrency
// requests in flight, then open-loop rates between the two.
const (
	SweepSync       = sweep.StageSync
	SweepThroughput = sweep.StageThroughput
	SweepRate       = sweep.StageRate
)

// SweepPoint places an experiment in its sweep. The sweep's points are consecutive
// experiments of one server configuration: sync, throughput, then rates 1…Points.
type SweepPoint struct {
	// ID names the sweep: the experiment id with SW<points> in place of the point's stage,
	// shared by its points.
	ID     string `json:"id"`
	Stage  string `json:"stage"`
	Points int    `json:"points"`          // open-loop rates between sync and throughput
	Index  int    `json:"index,omitempty"` // rate points: 1…Points, lowest rate first
	// MaxConcurrency is the requests in flight of the throughput point.
	MaxConcurrency int `json:"max_concurrency"`
}

// Tag is the point's part of its experiment id: sync, max or r<index>.
func (p SweepPoint) Tag() string {
	switch p.Stage {
	case SweepSync:
		return "sync"
	case SweepThroughput:
		return "max"
	}
	return fmt.Sprintf("r%d", p.Index)
}

// experiments yields the combination's experiments of every repeat: one, or the points of a
// sweep.
func (c combo) experiments(campaign string, repeats int) iter.Seq[Experiment] {
	return func(yield func(Experiment) bool) {
		for r := 1; r <= repeats; r++ {
			e := c.experiment(campaign, r)
			if e.Load.Mode != loadspec.ModeSweep {
				if !yield(e) {
					return
				}
				continue
			}
			for _, pt := range sweepPoints(e) {
				if !yield(pt) {
					return
				}
			}
		}
	}
}

// sweepPoints turns a sweep's experiment into its points, each with its own id and the load
// its stage knows at plan time (a rate point's rate is set when it runs).
func sweepPoints(e Experiment) []Experiment {
	n := e.Load.Sweep.Points
	out := make([]Experiment, 0, n+2)
	add := func(stage string, index int) {
		pt := e
		sw := *e.Load.Sweep
		sw.Stage, sw.Index = stage, index
		pt.Load.Sweep = &sw
		pt.ID = strings.Replace(e.ID, "_SW"+fmt.Sprint(n)+"_", "_SW"+fmt.Sprint(n)+"-"+sw.Tag()+"_", 1)
		switch stage {
		case SweepSync:
			pt.Load.Concurrency = 1
		case SweepThroughput:
			pt.Load.Concurrency = sw.MaxConcurrency
		}
		out = append(out, pt)
	}
	add(SweepSync, 0)
	add(SweepThroughput, 0)
	for i := 1; i <= n; i++ {
		add(SweepRate, i)
	}
	return out
}

// SweepStage returns the point of stage (sync, throughput) of the sweep sweepID.
func (p Plan) SweepStage(sweepID, stage string) (Experiment, bool) {
	for _, e := range p.Experiments {
		if sw := e.Load.Sweep; sw != nil && sw.ID == sweepID && sw.Stage == stage {
			return e, true
		}
	}
	return Experiment{}, false
}

// SweepPoints returns the points of the sweep sweepID, in run order.
func (p Plan) SweepPoints(sweepID string) []Experiment {
	var out []Experiment
	for _, e := range p.Experiments {
		if sw := e.Load.Sweep; sw != nil && sw.ID == sweepID {
			out = append(out, e)
		}
	}
	return out
}
