package loadgen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// Merge is the summary of a load that several workers shared (WorkerCount of cfg), computed
// from the records of all of them together, as one experiment: cfg is the whole load, not a
// worker's share. parts are the workers' own summaries, for what records do not hold: how
// long each ran, whether it was interrupted (the window then ends at the earliest stop), and
// how the client machines fared (CPU, connections, their limits, the whole host's CPU and steal).
//
// The merged summary has WorkerID -1. Every worker starts at the agreed time, so their offsets share one origin (to within the
// precision of the start, a fraction of a millisecond on one machine).
func Merge(cfg Config, rows []results.Request, parts []Summary) Summary {
	cfg = cfg.withDefaults()
	s := Summary{ExperimentID: cfg.ExperimentID, WorkerID: -1, WorkerCount: cfg.WorkerCount, Mode: cfg.Mode, API: cfg.API,
		Model: cfg.Model, Targets: cfg.Targets, Seed: cfg.Seed}
	switch cfg.Mode {
	case loadspec.ModeUsers:
		s.Users = cfg.Users
	case loadspec.ModeConcurrency:
		s.Concurrency = cfg.Concurrency
	case loadspec.ModeRate:
		s.Rate, s.Arrival, s.Burstiness, s.MaxInflight, s.RequestedRate = cfg.Rate, cfg.Arrival, cfg.Burstiness, cfg.MaxInflight, cfg.Rate
	}
	s.SLO, s.MaxRequests = cfg.SLO, cfg.MaxRequests
	acc := stats.Accumulator{SLO: cfg.SLO}
	for i := range rows {
		acc.Add(&rows[i])
	}
	window, limits := s.addWorkers(cfg.RunTime, parts)
	if cfg.MaxRequests > 0 { // each worker's window ended with its last request: the load's with the last of all
		window = 0
		for _, p := range parts {
			window = max(window, p.Window)
		}
	}
	s.Client = workersClient(cfg.Client, parts)
	for _, p := range parts {
		for _, t := range p.TargetsDown {
			if !slices.Contains(s.TargetsDown, t) {
				s.TargetsDown = append(s.TargetsDown, t)
			}
		}
	}
	var trend stats.Trend
	s.Summary, trend = acc.Summarize(stats.Span{From: cfg.Warmup, To: cfg.Warmup + window, OpenLoop: cfg.Mode == loadspec.ModeRate})
	s.ClientFailures = s.Failures[results.ErrorClient] // every worker's, as one run counts its own
	merged := Summary{Mode: s.Mode, Summary: stats.Summary{SendLag: s.SendLag, ScheduledRate: s.ScheduledRate,
		AchievedRate: s.AchievedRate}}
	s.Limits = append(limits, limitsOf(&merged, trend, nil)...) // the workers named what ran out on each
	return s
}

// workersClient is the client the workers used (each records the one it ran, which for
// auto is its host's choice): theirs where they agree, else every one of them, or the
// configured one when no worker said.
func workersClient(configured string, parts []Summary) string {
	var used []string
	for _, p := range parts {
		if p.Client != "" && !slices.Contains(used, p.Client) {
			used = append(used, p.Client)
		}
	}
	if len(used) == 0 {
		return configured
	}
	slices.Sort(used)
	return strings.Join(used, ",")
}

// addWorkers adds what the workers' own summaries say of the client side, and returns the
// measured window (cut at the earliest interruption) and the workers' limits, named.
func (s *Summary) addWorkers(window time.Duration, parts []Summary) (time.Duration, []string) {
	var limits []string
	workers := map[int]bool{}
	for _, p := range parts {
		if p.PID > 0 {
			workers[p.PID] = true
		}
	}
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
		s.Preconnected += p.Preconnected
		s.PreconnectTime = max(s.PreconnectTime, p.PreconnectTime)
		if s.PreconnectError == "" {
			s.PreconnectError = p.PreconnectError
		}
		if p.WakeLag.P99 > s.WakeLag.P99 {
			s.WakeLag = p.WakeLag
		}
		for _, l := range p.Limits {
			limits = append(limits, fmt.Sprintf("worker %d: %s", p.WorkerID, l))
		}
		s.addHost(p, workers)
	}
	if s.Wall > 0 {
		s.ClientCores = s.ClientCPU.Seconds() / s.Wall.Seconds()
	}
	return window, limits
}

// addHost merges a worker's view of its machine: the busiest CPU and steal of any worker (the
// most contended machine is the one that limits), contended when any was, every process that
// shared a worker's cores (named once) but the workers themselves, and the lowest open-file
// limit.
func (s *Summary) addHost(p Summary, workers map[int]bool) {
	s.HostCPUUtil, s.HostSteal = stats.MaxOpt(s.HostCPUUtil, p.HostCPUUtil), stats.MaxOpt(s.HostSteal, p.HostSteal)
	s.HostContended = s.HostContended || p.HostContended
	for _, sh := range p.HostSharers {
		if !workers[sharerPID(sh)] && !slices.Contains(s.HostSharers, sh) {
			s.HostSharers = append(s.HostSharers, sh)
		}
	}
	if p.OpenFilesLimit > 0 && (s.OpenFilesLimit == 0 || p.OpenFilesLimit < s.OpenFilesLimit) {
		s.OpenFilesLimit = p.OpenFilesLimit
	}
}

// sharerPID reads the pid back from a sharer as host.Sharer.String wrote it,
// "comm (pid N, x cores)"; 0 when it holds none.
func sharerPID(sharer string) int {
	_, rest, ok := strings.Cut(sharer[max(strings.LastIndex(sharer, "(pid "), 0):], "(pid ")
	if !ok {
		return 0
	}
	digits, _, _ := strings.Cut(rest, ",")
	pid, _ := strconv.Atoi(digits)
	return pid
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
// worker: identity, window, interruption, the client's own figures and its machine's.
func ReadSummary(path string) (Summary, error) {
	doc, err := results.ReadLoadSummary(path)
	if err != nil {
		return Summary{}, err
	}
	sec := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
	s := Summary{WorkerID: doc.WorkerID, WorkerCount: doc.Workers, Summary: stats.Summary{Window: sec(doc.Duration),
		Sent: doc.Sent}, Wall: sec(doc.WallS), Interrupted: doc.Interrupted, Client: doc.Client,
		ClientCPU: sec(doc.ClientCPUS), PeakConnections: doc.PeakConnections, Connections: doc.ConnectionsDialled,
		PeakInFlight: doc.PeakInflight, CapWaits: doc.CapWaits, Limits: doc.ClientLimits,
		WakeLag: Stat{P99: doc.P99WakeLagMs, Max: doc.MaxWakeLagMs}, TargetsDown: doc.TargetsDown,
		OpenFilesLimit: doc.OpenFilesLimit, HostCPUUtil: doc.HostCPUUtil, HostSteal: doc.HostSteal,
		HostContended: doc.HostContended, HostSharers: doc.HostSharers, PID: doc.PID, Preconnected: doc.Preconnected,
		PreconnectTime: sec(doc.PreconnectS), PreconnectError: doc.PreconnectError}
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
