package loadgen

import (
	"fmt"
	"slices"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

// Merge is the summary of a load that several workers shared (WorkerCount of cfg), computed
// from the records of all of them together, as one experiment: cfg is the whole load, not a
// worker's share. parts are the workers' own summaries, for what records do not hold: how
// long each ran, whether it was interrupted (the window then ends at the earliest stop), and
// how the client machines fared (CPU, connections, their limits).
//
// The merged summary has WorkerID -1. Every worker starts at the agreed time, so their offsets share one origin (to within the
// precision of the start, a fraction of a millisecond on one machine).
func Merge(cfg Config, rows []results.Request, parts []Summary) Summary {
	cfg = cfg.withDefaults()
	s := Summary{ExperimentID: cfg.ExperimentID, WorkerID: -1, WorkerCount: cfg.WorkerCount, Mode: cfg.Mode, API: cfg.API,
		Model: cfg.Model, Targets: cfg.Targets, Seed: cfg.Seed, Client: cfg.Client}
	switch cfg.Mode {
	case loadspec.ModeUsers:
		s.Users = cfg.Users
	case loadspec.ModeConcurrency:
		s.Concurrency = cfg.Concurrency
	case loadspec.ModeRate:
		s.Rate, s.Arrival, s.Burstiness, s.MaxInflight, s.RequestedRate = cfg.Rate, cfg.Arrival, cfg.Burstiness, cfg.MaxInflight, cfg.Rate
	}
	s.SLO, s.MaxRequests = cfg.SLO, cfg.MaxRequests
	acc := accumulator{slo: cfg.SLO}
	for i := range rows {
		acc.add(&rows[i])
	}
	s.Sent, s.NotSent, s.Phases, s.Failures, s.FirstErrors = acc.sent, acc.notSent, acc.phases, acc.failures, acc.firstErrors
	window, limits := s.addWorkers(cfg.RunTime, parts)
	if cfg.MaxRequests > 0 { // each worker's window ended with its last request: the load's with the last of all
		window = 0
		for _, p := range parts {
			window = max(window, p.Window)
		}
	}
	for _, p := range parts {
		for _, t := range p.TargetsDown {
			if !slices.Contains(s.TargetsDown, t) {
				s.TargetsDown = append(s.TargetsDown, t)
			}
		}
	}
	from := int64(cfg.Warmup)
	s.Window = window
	trend := acc.windowStats(&s, cfg.Mode, from, from+int64(window))
	merged := Summary{Mode: s.Mode, SendLag: s.SendLag, ScheduledRate: s.ScheduledRate, AchievedRate: s.AchievedRate}
	s.Limits = append(limits, (&Runner{}).limitsOf(&merged, trend)...)
	return s
}

// addWorkers adds what the workers' own summaries say of the client side, and returns the
// measured window (cut at the earliest interruption) and the workers' limits, named.
func (s *Summary) addWorkers(window time.Duration, parts []Summary) (time.Duration, []string) {
	var limits []string
	for _, p := range parts {
		if p.Interrupted {
			s.Interrupted = true
			window = min(window, p.Window)
		}
		s.Wall = max(s.Wall, p.Wall)
		s.ClientCPU += p.ClientCPU
		s.Cores = max(s.Cores, p.Cores)
		s.PeakConnections += p.PeakConnections
		s.Connections += p.Connections
		s.PeakInFlight += p.PeakInFlight
		s.CapWaits += p.CapWaits
		if p.WakeLag.P99 > s.WakeLag.P99 {
			s.WakeLag = p.WakeLag
		}
		for _, l := range p.Limits {
			limits = append(limits, fmt.Sprintf("worker %d: %s", p.WorkerID, l))
		}
	}
	if s.Wall > 0 {
		s.ClientCores = s.ClientCPU.Seconds() / s.Wall.Seconds()
	}
	return window, limits
}

// AllFailed reports whether every request sent failed (and at least one was sent): the
// condition Run reports as ErrAllFailed.
func AllFailed(rows []results.Request) bool {
	sent := 0
	for _, r := range rows {
		if r.ErrorKind == results.ErrorNotSent {
			continue
		}
		if r.OK() {
			return false
		}
		sent++
	}
	return sent > 0
}

// ReadSummary reads back the parts of a summary.json (Summary.JSON) that Merge needs of a
// worker: identity, window, interruption and the client's own figures.
func ReadSummary(path string) (Summary, error) {
	doc, err := results.ReadLoadSummary(path)
	if err != nil {
		return Summary{}, err
	}
	sec := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
	s := Summary{WorkerID: doc.WorkerID, WorkerCount: doc.Workers, Window: sec(doc.Duration), Wall: sec(doc.WallS),
		Interrupted: doc.Interrupted, Sent: doc.Sent, Client: doc.Client, ClientCPU: sec(doc.ClientCPUS),
		PeakConnections: doc.PeakConnections, Connections: doc.ConnectionsDialled, PeakInFlight: doc.PeakInflight,
		CapWaits: doc.CapWaits, Limits: doc.ClientLimits, WakeLag: Stat{P99: doc.P99WakeLagMs, Max: doc.MaxWakeLagMs},
		TargetsDown: doc.TargetsDown}
	if doc.ClientCores != nil {
		s.Cores = *doc.ClientCores
	}
	return s, nil
}

// SummaryFile is the name of a worker's summary in an output folder: summary.json for a
// single worker, summary-<worker>.json when several share the load.
func SummaryFile(worker, workers int) string {
	if workers <= 1 {
		return "summary.json"
	}
	return fmt.Sprintf("summary-%d.json", worker)
}
