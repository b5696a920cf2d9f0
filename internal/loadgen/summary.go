package loadgen

import (
	"fmt"
	"runtime"
	"time"

	"github.com/llmscale/llmscale/internal/host"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// Stat is a latency summary (stats.Stat): percentiles as vLLM's benchmark computes them.
type Stat = stats.Stat

// Summary is what a run measured over its measured window (warm-up and cool-down excluded),
// with vLLM's metric names, and how the client itself fared.
type Summary struct {
	ExperimentID string
	WorkerID     int
	WorkerCount  int
	Mode         loadspec.Mode
	API          loadspec.API
	Model        string
	Targets      []string
	TargetsDown  []string // targets that refused a connection: taken out of the balancer, sending stopped
	Users        int      // this worker's share
	Concurrency  int      // this worker's share
	Rate         float64  // this worker's share, requests/s
	Arrival      string
	Burstiness   float64
	MaxInflight  int
	Seed         int64

	stats.Summary // the measured window's figures from the records

	Wall        time.Duration // the whole run
	Interrupted bool

	SLO loadspec.SLO // the objectives goodput counts against; zero: none given
	// Preconnected connections were opened before the start (ConnectRate), in PreconnectTime;
	// PreconnectError is why that stopped early.
	Preconnected    int
	PreconnectTime  time.Duration
	PreconnectError string
	MaxRequests     int // the load's request limit (vLLM's --num-prompts); 0: none

	RequestedRate float64 // rate mode: the schedule's nominal rate

	ClientCPU       time.Duration // user + system, whole run
	ClientCores     float64       // ClientCPU / Wall: cores kept busy on average
	Client          string        // the client that read the responses: io_uring, epoll or net/http
	Cores           int           // cores the client could use (GOMAXPROCS)
	PeakConnections int64
	Connections     int64 // connections dialled
	PeakInFlight    int64
	CapWaits        int64    // requests the in-flight cap made wait
	WakeLag         Stat     // how late a 10 ms timer woke up: above ~1 ms the process waited for a CPU
	Limits          []string // sentences, when the client itself limited the run

	// ClientFailures counts the requests (every phase) that failed on the client's own limits
	// (failure kind "client"): they say nothing about the server.
	ClientFailures int
	// OpenFilesLimit is the process's open-file limit (ulimit -n) during the run; 0 unknown.
	OpenFilesLimit uint64

	// The whole machine over the run, beside the client's own CPU (nil when not sampled):
	// CPU utilisation and steal as shares of all CPUs, whether that makes the host contended
	// (host.ContendedCPU, host.ContendedSteal), and the busiest other processes that ran on
	// the client's cores.
	HostCPUUtil, HostSteal *float64
	HostContended          bool
	HostSharers            []string
	// PID is the worker's process when several share the load (0 otherwise): Merge leaves
	// the other workers out of each worker's sharers, as they are the load generator itself.
	PID int
}

// setHost records the machine's usage over the run.
func (s *Summary) setHost(u host.Usage) {
	s.HostCPUUtil, s.HostSteal, s.HostContended = &u.CPUUtil, &u.Steal, u.Contended
	for _, sh := range u.Sharers {
		s.HostSharers = append(s.HostSharers, sh.String())
	}
}

// MostFailedOnClient reports whether more than half of the requests sent failed on the
// client's own limits: the run measured the client, not the server.
func (s Summary) MostFailedOnClient() bool {
	return s.ClientFailures > 0 && 2*s.ClientFailures > s.Sent
}

// limitAdvice says how to lift a client limit.
func limitAdvice(what string, files uint64) string {
	switch what {
	case LimitFiles:
		return fmt.Sprintf("open-file limit %d: raise the hard limit, e.g. ulimit -Hn, LimitNOFILE= of a systemd unit "+
			"or nofile in /etc/security/limits.conf, or use fewer connections", files)
	case LimitPorts:
		return "widen net.ipv4.ip_local_port_range, reuse connections (keep-alive) or spread the load over several client addresses"
	case LimitSendTime:
		return "requests waited in the client (connecting or writing) beyond --timeout: give the client more CPU or " +
			"workers, keep connections alive, or raise --timeout"
	}
	return "the kernel's socket buffers ran out: fewer connections or more memory for them (net.core.*mem)"
}

// summary computes the run's summary once every record is in.
func (r *Runner) summary(wall, cpu time.Duration, wakeLag Stat) Summary {
	c := r.cfg
	users, concurrency, rate, _ := c.level()
	s := Summary{ExperimentID: c.ExperimentID, WorkerID: c.WorkerID, WorkerCount: c.WorkerCount, Mode: c.Mode,
		API: c.API, Model: c.Model, Targets: c.Targets, Seed: c.Seed, Wall: wall,
		ClientCPU: cpu, Cores: runtime.GOMAXPROCS(0),
		PeakConnections: r.conns.peak.Load(), Connections: r.conns.dialled.Load(),
		PeakInFlight: r.prog.peakInflight.Load(), CapWaits: r.capWaits.Load(), WakeLag: wakeLag, Client: r.tr.name(),
		SLO: c.SLO, MaxRequests: c.MaxRequests, TargetsDown: r.down.list()}
	switch c.Mode {
	case loadspec.ModeUsers:
		s.Users = users
	case loadspec.ModeConcurrency:
		s.Concurrency = concurrency
	case loadspec.ModeRate:
		s.Rate, s.Arrival, s.Burstiness, s.MaxInflight, s.RequestedRate = rate, c.Arrival, c.Burstiness, c.MaxInflight, rate
	}
	if wall > 0 && cpu >= 0 {
		s.ClientCores = cpu.Seconds() / wall.Seconds()
	}
	from, to := int64(c.Warmup), int64(c.Warmup+c.RunTime)
	if stop := r.stoppedAt.Load(); stop > 0 && stop < to {
		to, s.Interrupted = max(stop, from), true
	}
	if c.MaxRequests > 0 && int64(wall) < to {
		to = max(int64(wall)+1, from) // every request has ended: the window [from, to) ends just after the last
	}
	var trend stats.Trend
	s.Summary, trend = r.acc.Summarize(stats.Span{From: time.Duration(from), To: time.Duration(to), OpenLoop: c.Mode == loadspec.ModeRate})
	s.ClientFailures, s.OpenFilesLimit = s.Failures[results.ErrorClient], OpenFilesLimit()
	s.Preconnected, s.PreconnectTime, s.PreconnectError = r.pre.n, r.pre.took, r.pre.err
	s.Limits = limitsOf(&s, trend, r.ranOut())
	return s
}

// limitsOf says, in words, where the client itself may have limited the run: from its
// summary, the send lag's trend, and the client resources that ran out (LimitFiles,
// LimitPorts, LimitBuffers, LimitSendTime; in that order).
func limitsOf(s *Summary, trend stats.Trend, ranOut []string) []string {
	var out []string
	if s.Cores > 0 && s.ClientCores >= 0.9*float64(s.Cores) {
		out = append(out, fmt.Sprintf("the client kept %.2f of its %d cores busy (%.0f%%): it was CPU-bound, so "+
			"requests and timestamps may have been delayed; give it more cores or split the load over workers",
			s.ClientCores, s.Cores, 100*s.ClientCores/float64(s.Cores)))
	}
	if s.WakeLag.P99 > maxWakeLag {
		out = append(out, fmt.Sprintf("the client's own timer woke up to %.1f ms late (p99; max %.1f ms): its process "+
			"waited for a CPU (another process competes for its cores, or it is saturated), so its timestamps may be "+
			"late by as much", s.WakeLag.P99, s.WakeLag.Max))
	}
	switch tr := trend; {
	case s.CapWaits > 0: // the cap made requests late, not the client (said below)
	case tr[1] > 5*time.Millisecond && tr[1] > 2*tr[0]+time.Millisecond:
		out = append(out, fmt.Sprintf("send lag grew from %s to %s over the window: the client fell behind its schedule",
			fmtMs(tr[0]), fmtMs(tr[1])))
	case s.Mode == loadspec.ModeRate && s.SendLag.P99 > 1:
		out = append(out, fmt.Sprintf("send lag p99 %.2f ms: requests left the client later than scheduled", s.SendLag.P99))
	}
	if s.CapWaits > 0 {
		out = append(out, fmt.Sprintf("the in-flight cap (%d) held back %d requests (sent late; %d never sent): "+
			"the server was slower than the schedule", s.MaxInflight, s.CapWaits, s.NotSent))
	}
	for _, what := range ranOut {
		out = append(out, fmt.Sprintf("the client ran out of %s: %d requests failed on the client, not the server (%s)",
			what, s.ClientFailures, limitAdvice(what, s.OpenFilesLimit)))
	}
	if s.Mode == loadspec.ModeRate && s.ScheduledRate > 0 && s.AchievedRate < 0.99*s.ScheduledRate {
		why := ""
		if s.CapWaits > 0 {
			why = " (the in-flight cap)"
		}
		out = append(out, fmt.Sprintf("achieved rate %.2f req/s is %.1f%% below the schedule's %.2f req/s%s",
			s.AchievedRate, 100*(1-s.AchievedRate/s.ScheduledRate), s.ScheduledRate, why))
	}
	return out
}

// maxWakeLag is the probe's p99 lateness (ms) above which the client says it was starved of
// CPU: an idle Go process wakes up to 1 ms late by design.
const maxWakeLag = 2.0

func fmtMs(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func ms(ns int64) float64 { return float64(ns) / 1e6 }
