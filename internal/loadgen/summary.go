package loadgen

import (
	"fmt"
	"math"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/llmscale/llmscale/internal/host"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

// Stat summarises one latency in milliseconds, as vLLM's benchmark does: mean, standard
// deviation (population), median and percentiles by linear interpolation (numpy's default).
type Stat struct {
	N                                     int
	Mean, Std, Median, P90, P95, P99, Max float64
}

// NewStat summarises values (milliseconds); it sorts them in place.
func NewStat(v []float64) Stat {
	if len(v) == 0 {
		return Stat{}
	}
	slices.Sort(v)
	var sum float64
	for _, x := range v {
		sum += x
	}
	mean := sum / float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return Stat{N: len(v), Mean: mean, Std: math.Sqrt(ss / float64(len(v))), Median: Percentile(v, 50),
		P90: Percentile(v, 90), P95: Percentile(v, 95), P99: Percentile(v, 99), Max: v[len(v)-1]}
}

// Percentile is numpy.percentile(v, p) with linear interpolation; v must be sorted.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := rank - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

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

	Window      time.Duration // the measured window, cut short by a Ctrl-C
	Wall        time.Duration // the whole run
	Interrupted bool

	Sent        int            // requests sent, every phase
	Succeeded   int            // in the measured window
	Failed      int            // in the measured window
	NotSent     int            // held by the in-flight cap until sending stopped, every phase
	Phases      map[string]int // requests by phase, every outcome
	Failures    map[string]int // failed requests by kind, every phase
	FirstErrors []string       // the first few distinct failures, "kind: message"

	SLO            loadspec.SLO // the objectives goodput counts against; zero: none given
	GoodRequests   int          // succeeded requests of the window that met every objective
	RequestGoodput float64      // GoodRequests per second of the window (vLLM's request_goodput)
	MaxRequests    int          // the load's request limit (vLLM's --num-prompts); 0: none

	PromptTokens, OutputTokens                           int64   // succeeded requests of the window
	RequestThroughput, OutputThroughput, TotalThroughput float64 // per second of the window

	TTFT, TPOT, ITL, E2E Stat // vLLM's names; ITL per chunk
	// TTFTvLLM and ITLvLLM are the same figures as vLLM's own client (vllm bench serve)
	// computes them, timing every chunk with choices, content or not; VLLMDiffers says some
	// response had such a chunk (chat's role-only first delta), else they equal TTFT and ITL.
	TTFTvLLM, ITLvLLM Stat
	VLLMDiffers       bool
	TokenITL          Stat // each gap divided by the tokens of its chunk, one value per token
	E2EFromDue        Stat // from when the request was due: includes client-side waiting
	SendLag           Stat // sent − due, requests sent in the window

	RequestedRate float64 // rate mode: the schedule's nominal rate
	ScheduledRate float64 // rate mode: requests due in the window / window
	AchievedRate  float64 // requests sent in the window / window

	ClientCPU       time.Duration // user + system, whole run
	ClientCores     float64       // ClientCPU / Wall: cores kept busy on average
	Client          string        // the client that read the responses: epoll or net/http
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
	}
	return "the kernel's socket buffers ran out: fewer connections or more memory for them (net.core.*mem)"
}

// reqStat is what the summary keeps of each record.
type reqStat struct {
	ok              bool
	due, sent, end  int64
	ttft, e2e, tpot int64
	prompt, output  int32
	vttft           int64 // vLLM's TTFT, when hasV
	hasV            bool  // vLLM's figures differ from ours (see vGap)
}

// memGap is one measured response's chunk gaps, kept in memory when there is no gap store.
type memGap struct {
	end         int64
	itl         []int64
	chunkTokens []int32
}

// vGap is a measured response whose gaps by vLLM's definition differ from ours (chat's role
// delta, an empty finish chunk): both lists, so vLLM's ITL is ours with these replaced.
type vGap struct {
	end       int64
	ours, vll []int64
}

// accumulator keeps what the summary needs from every record; only the collector touches it.
type accumulator struct {
	// gaps, when set, holds the chunk gaps of measured requests on disk instead of reqs.
	gaps        *gapStore
	memGaps     []memGap
	vGaps       []vGap
	reqs        []reqStat
	sent        int
	succeeded   int // every phase
	notSent     int
	notSentDue  []int64
	phases      map[string]int
	failures    map[string]int
	firstErrors []string
	seen        map[string]bool
	slo         loadspec.SLO // goodput's objectives
}

const maxFirstErrors = 5

// idLike is a run of hex digits, one of them a decimal digit: an id, a count or a time.
var idLike = regexp.MustCompile(`[0-9a-fA-F]*[0-9][0-9a-fA-F]*`)

// errorShape is an error message with its ids blanked: two errors that differ only in a
// response id or a byte count are one error to report. Short numbers (HTTP statuses) stay.
func errorShape(msg string) string {
	return idLike.ReplaceAllStringFunc(msg, func(id string) string {
		if len(id) < 5 {
			return id
		}
		return "#"
	})
}

func (a *accumulator) add(rec *results.Request) {
	if a.phases == nil {
		a.phases, a.failures, a.seen = map[string]int{}, map[string]int{}, map[string]bool{}
	}
	a.phases[rec.Phase]++
	if rec.ErrorKind == results.ErrorNotSent {
		a.notSent++
		a.notSentDue = append(a.notSentDue, rec.DueNs)
		return
	}
	a.sent++
	if rec.OK() {
		a.succeeded++
	}
	s := reqStat{ok: rec.OK(), due: rec.DueNs, sent: rec.SentNs, end: rec.EndNs}
	if s.ok {
		s.ttft, s.e2e, s.tpot, s.prompt, s.output = rec.TTFTNs, rec.E2ENs, rec.TPOTNs, rec.PromptTokens, rec.OutputTokens
		if len(rec.VLLMITLNs) > 0 {
			s.vttft, s.hasV = rec.VLLMTTFTNs, true
		}
		switch {
		case rec.Phase != results.PhaseMeasure:
		case a.gaps != nil:
			a.gaps.add(rec.EndNs, rec.ITLNs, rec.ChunkTokens)
		default:
			a.memGaps = append(a.memGaps, memGap{rec.EndNs, rec.ITLNs, rec.ChunkTokens})
		}
		if rec.Phase == results.PhaseMeasure && s.hasV {
			a.vGaps = append(a.vGaps, vGap{rec.EndNs, rec.ITLNs, rec.VLLMITLNs})
		}
	} else {
		a.failures[rec.ErrorKind]++
		e := rec.ErrorKind + ": " + rec.Error
		if key := errorShape(e); len(a.firstErrors) < maxFirstErrors && !a.seen[key] {
			a.seen[key] = true
			a.firstErrors = append(a.firstErrors, e)
		}
	}
	a.reqs = append(a.reqs, s)
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// summary computes the run's summary once every record is in.
func (r *Runner) summary(wall, cpu time.Duration, wakeLag Stat) Summary {
	c := r.cfg
	users, concurrency, rate, _ := c.level()
	s := Summary{ExperimentID: c.ExperimentID, WorkerID: c.WorkerID, WorkerCount: c.WorkerCount, Mode: c.Mode,
		API: c.API, Model: c.Model, Targets: c.Targets, Seed: c.Seed, Wall: wall,
		Sent: r.acc.sent, NotSent: r.acc.notSent, Phases: r.acc.phases, Failures: r.acc.failures,
		FirstErrors: r.acc.firstErrors, ClientCPU: cpu, Cores: runtime.GOMAXPROCS(0),
		PeakConnections: r.conns.peak.Load(), Connections: r.conns.dialled.Load(),
		PeakInFlight: r.prog.peakInflight.Load(), CapWaits: r.capWaits.Load(), WakeLag: wakeLag, Client: c.Client,
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
	s.Window = time.Duration(to - from)
	s.ClientFailures, s.OpenFilesLimit = r.acc.failures[results.ErrorClient], OpenFilesLimit()
	trend := r.acc.windowStats(&s, c.Mode, from, to)
	s.Limits = r.limitsOf(&s, trend)
	return s
}

// SummarizeRecords computes the measured-window figures of a run — counts, throughputs and
// latency statistics, with the same definitions and percentiles as the live summary — from its
// request records read back from files (one worker's or several workers' merged). The window
// is [from, to) in offsets from the run's start: a request belongs to it when it ended inside
// it (end_ns), as the phase column says. rate tells an open-loop run, whose scheduled rate
// counts the requests due in the window. Fields only the live run knows (client CPU,
// connections, the wake-up probe, Limits) are left zero.
func SummarizeRecords(rows []results.Request, from, to time.Duration, rate bool) Summary {
	var acc accumulator
	for i := range rows {
		acc.add(&rows[i])
	}
	s := Summary{Sent: acc.sent, NotSent: acc.notSent, Phases: acc.phases, Failures: acc.failures,
		FirstErrors: acc.firstErrors, Window: to - from}
	mode := loadspec.ModeUsers
	if rate {
		mode = loadspec.ModeRate
	}
	acc.windowStats(&s, mode, int64(from), int64(to))
	return s
}

// windowStats fills the latency and throughput figures from the requests of [from, to), and
// returns the send lag's trend over the window.
func (a *accumulator) windowStats(s *Summary, mode loadspec.Mode, from, to int64) [2]time.Duration {
	var ttft, tpot, itl, tokITL, e2e, fromDue, lag, vttft, vitl []float64
	var lagAt []lagPoint
	due := 0
	in := func(t int64) bool { return t >= from && t < to }
	for _, q := range a.reqs {
		if in(q.due) {
			due++
		}
		if in(q.sent) {
			lag = append(lag, ms(q.sent-q.due))
			lagAt = append(lagAt, lagPoint{q.due, q.sent - q.due})
		}
		if !in(q.end) {
			continue
		}
		if !q.ok {
			s.Failed++
			continue
		}
		s.Succeeded++
		if a.slo.Any() && a.slo.Meets(q.ttft, q.tpot, q.e2e, q.output) {
			s.GoodRequests++
		}
		s.PromptTokens += int64(q.prompt)
		s.OutputTokens += int64(q.output)
		ttft, e2e, fromDue = append(ttft, ms(q.ttft)), append(e2e, ms(q.e2e)), append(fromDue, ms(q.e2e+q.sent-q.due))
		if q.output > 1 {
			tpot = append(tpot, ms(q.tpot))
		}
		t := q.ttft
		if q.hasV {
			t = q.vttft
		}
		vttft = append(vttft, ms(t))
		s.VLLMDiffers = s.VLLMDiffers || q.hasV
	}
	for _, g := range a.memGaps {
		if in(g.end) {
			itl, tokITL = addGaps(itl, tokITL, g.itl, g.chunkTokens)
		}
	}
	if a.gaps != nil {
		itl, tokITL = a.storedGaps(from, to)
	}
	s.TTFT, s.TPOT, s.ITL, s.TokenITL, s.E2E = NewStat(ttft), NewStat(tpot), NewStat(itl), NewStat(tokITL), NewStat(e2e)
	s.E2EFromDue, s.SendLag = NewStat(fromDue), NewStat(lag)
	if s.VLLMDiffers {
		vitl = a.vllmITL(itl, in)
	}
	s.TTFTvLLM, s.ITLvLLM = NewStat(vttft), NewStat(vitl)
	if sec := s.Window.Seconds(); sec > 0 {
		s.RequestThroughput = float64(s.Succeeded) / sec
		s.RequestGoodput = float64(s.GoodRequests) / sec
		s.OutputThroughput = float64(s.OutputTokens) / sec
		s.TotalThroughput = float64(s.PromptTokens+s.OutputTokens) / sec
		s.AchievedRate = float64(len(lag)) / sec
		if mode == loadspec.ModeRate {
			for _, d := range a.notSentDue { // due too, though never sent
				if in(d) {
					due++
				}
			}
			s.ScheduledRate = float64(due) / sec
		}
	}
	return lagTrend(lagAt)
}

// addGaps appends one response's chunk gaps (ms), and each gap split over the tokens of the
// chunk it ends, to the window's lists.
func addGaps(itl, tokITL []float64, gaps []int64, chunkTokens []int32) ([]float64, []float64) {
	for i, g := range gaps {
		itl = append(itl, ms(g))
		if i+1 < len(chunkTokens) && chunkTokens[i+1] > 0 {
			k := chunkTokens[i+1]
			for range k {
				tokITL = append(tokITL, ms(g)/float64(k))
			}
		}
	}
	return itl, tokITL
}

// storedGaps reads the chunk gaps of the window's measured requests back from the store (only
// successful ones were stored). A store that failed leaves ITL empty rather than wrong.
func (a *accumulator) storedGaps(from, to int64) (itl, tokITL []float64) {
	_ = a.gaps.each(func(end int64, gaps []int64, chunkTokens []int32) {
		if end >= from && end < to {
			itl, tokITL = addGaps(itl, tokITL, gaps, chunkTokens)
		}
	})
	return itl, tokITL
}

type lagPoint struct{ due, lag int64 }

// lagTrend returns the median send lag of the first and the last tenth of the window's
// requests, by due time.
func lagTrend(points []lagPoint) [2]time.Duration {
	if len(points) < 20 {
		return [2]time.Duration{}
	}
	sort.Slice(points, func(i, j int) bool { return points[i].due < points[j].due })
	median := func(p []lagPoint) time.Duration {
		v := make([]int64, len(p))
		for i, x := range p {
			v[i] = x.lag
		}
		slices.Sort(v)
		return time.Duration(v[len(v)/2])
	}
	n := len(points) / 10
	return [2]time.Duration{median(points[:n]), median(points[len(points)-n:])}
}

// limitsOf says, in words, where the client itself may have limited the run.
func (r *Runner) limitsOf(s *Summary, trend [2]time.Duration) []string {
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
	r.limitMu.Lock()
	for _, what := range []string{LimitFiles, LimitPorts, LimitBuffers} {
		if r.limits[what] {
			out = append(out, fmt.Sprintf("the client ran out of %s: %d requests failed on the client, not the server (%s)",
				what, s.ClientFailures, limitAdvice(what, s.OpenFilesLimit)))
		}
	}
	r.limitMu.Unlock()
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

// vllmITL is the window's ITL by vLLM's definition: ours (itl, in ms), with the gaps of the
// responses where it differs replaced by theirs.
func (a *accumulator) vllmITL(itl []float64, in func(int64) bool) []float64 {
	drop := map[float64]int{}
	var add []float64
	for _, g := range a.vGaps {
		if !in(g.end) {
			continue
		}
		for _, x := range g.ours {
			drop[ms(x)]++
		}
		for _, x := range g.vll {
			add = append(add, ms(x))
		}
	}
	out := make([]float64, 0, len(itl)+len(add))
	for _, x := range itl {
		if drop[x] > 0 {
			drop[x]--
			continue
		}
		out = append(out, x)
	}
	return append(out, add...)
}
