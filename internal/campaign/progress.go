package campaign

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/results"
)

// progress prints one line per event: a server starting or stopping, an experiment starting
// and ending, with the overall count of done, failed and left experiments and the time left.
// Lines, not a redrawn bar, so they read the same on a terminal, in a log and in a Slurm job.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	now    func() time.Time
	total  int
	done   int
	failed int
	start  time.Time
	eta    etaModel
}

// etaModel estimates the time left from what was measured so far: each experiment left takes
// its planned duration scaled by how long the finished ones took against theirs, each server
// not started yet takes the mean measured start (the plan's estimate before one was measured),
// and jobs that ran side by side (Slurm) divide the sum by how many ran at once on average.
type etaModel struct {
	planned       map[string]time.Duration // experiment id → warm-up + run time + cool-down
	server        map[string]string        // experiment id → server configuration id
	left          map[string]bool          // experiments not finished
	started       map[string]bool          // server configurations started
	startEstimate time.Duration            // the plan's per-server start estimate
	tookSum       time.Duration            // measured time of finished experiments
	plannedSum    time.Duration            // their planned time
	starts        int                      // server starts measured
	startSum      time.Duration
}

func newETAModel(todo []matrix.Experiment, startEstimate time.Duration) etaModel {
	m := etaModel{planned: map[string]time.Duration{}, server: map[string]string{}, left: map[string]bool{},
		started: map[string]bool{}, startEstimate: startEstimate}
	for _, e := range todo {
		m.planned[e.ID], m.server[e.ID], m.left[e.ID] = e.Load.Duration(), e.Server.ID, true
	}
	return m
}

// finished counts an experiment that ended; took is its measured time (0 when unknown).
func (m *etaModel) finished(id string, took time.Duration) {
	delete(m.left, id)
	m.started[m.server[id]] = true
	if took > 0 {
		m.tookSum += took
		m.plannedSum += m.planned[id]
	}
}

// remaining is the estimate; elapsed is the campaign's wall time so far.
func (m *etaModel) remaining(elapsed time.Duration) time.Duration {
	ratio := 1.0
	if m.plannedSum > 0 {
		ratio = float64(m.tookSum) / float64(m.plannedSum)
	}
	start := m.startEstimate
	if m.starts > 0 {
		start = m.startSum / time.Duration(m.starts)
	}
	var work float64
	servers := map[string]bool{}
	for id := range m.left {
		work += float64(m.planned[id]) * ratio
		if !m.started[m.server[id]] && !servers[m.server[id]] {
			servers[m.server[id]] = true
			work += float64(start)
		}
	}
	if busy := m.tookSum + m.startSum; elapsed > 0 && busy > elapsed { // jobs ran side by side
		work /= float64(busy) / float64(elapsed)
	}
	return time.Duration(work)
}

// startEstimate is the plan's time to start one server: its wall estimate less the load time.
func startEstimate(p matrix.Plan) time.Duration {
	if len(p.Servers) == 0 {
		return 0
	}
	wall := p.Estimate.Wall
	for _, e := range p.Experiments {
		wall -= e.Load.Duration()
	}
	return max(wall/time.Duration(len(p.Servers)), 0)
}

func newProgress(w io.Writer, todo []matrix.Experiment, alreadyDone int, now func() time.Time, startEst time.Duration) *progress {
	total := len(todo)
	p := &progress{w: w, now: now, total: total, start: now(), eta: newETAModel(todo, startEst)}
	msg := fmt.Sprintf("campaign: %d experiment%s to run", total, map[bool]string{true: "", false: "s"}[total == 1])
	if alreadyDone > 0 {
		msg += fmt.Sprintf(" (%d already done, skipped; --force runs them again)", alreadyDone)
	}
	p.line("%s", msg)
	return p
}

func (p *progress) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *progress) server(format string, args ...any) { p.line("  server "+format, args...) }

// serverReady counts a measured server start, for the estimate of the time left.
func (p *progress) serverReady(id string, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.eta.started[id] = true
	p.eta.starts++
	p.eta.startSum += took
}

func (p *progress) starting(e matrix.Experiment, attempt int) {
	retry := ""
	if attempt > 1 {
		retry = fmt.Sprintf(" (attempt %d)", attempt)
	}
	p.line("[%d/%d] %s: running%s, %s", p.done+p.failed+1, p.total, e.ID, retry, e.Load.Duration())
}

func (p *progress) finished(e matrix.Experiment, rec results.Experiment, sum *loadgen.Summary, took time.Duration) {
	p.mu.Lock()
	if rec.Status == results.StatusDone {
		p.done++
	} else {
		p.failed++
	}
	p.eta.finished(e.ID, took)
	p.mu.Unlock()
	what := "done"
	if rec.Status != results.StatusDone {
		what = "FAILED: " + rec.Reason
	} else if sum != nil {
		what = fmt.Sprintf("done: %d ok, %d failed, %.2f req/s, %.0f output tok/s, TTFT p50 %.0f ms",
			sum.Succeeded, sum.Failed, sum.RequestThroughput, sum.OutputThroughput, sum.TTFT.Median)
	}
	p.line("[%d/%d] %s %s (%s) — %s", p.done+p.failed, p.total, e.ID, what, took.Round(100*time.Millisecond), p.counts())
}

// counts is the overall state and the time left, estimated from what was measured so far.
func (p *progress) counts() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	left := p.total - p.done - p.failed
	eta := p.eta.remaining(p.now().Sub(p.start)).Round(time.Second)
	return fmt.Sprintf("%d done, %d failed, %d left, about %s to go", p.done, p.failed, left, eta)
}

func (p *progress) finish() {
	p.line("campaign: %d done, %d failed in %s", p.done, p.failed, p.now().Sub(p.start).Round(time.Second))
}
