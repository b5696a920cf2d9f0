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
}

func newProgress(w io.Writer, total, alreadyDone int, now func() time.Time) *progress {
	p := &progress{w: w, now: now, total: total, start: now()}
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

// counts is the overall state and the time left, estimated from the experiments so far.
func (p *progress) counts() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	finished := p.done + p.failed
	left := p.total - finished
	eta := "?"
	if finished > 0 {
		eta = (time.Duration(int64(p.now().Sub(p.start)) / int64(finished) * int64(left))).Round(time.Second).String()
	}
	return fmt.Sprintf("%d done, %d failed, %d left, about %s to go", p.done, p.failed, left, eta)
}

func (p *progress) finish() {
	p.line("campaign: %d done, %d failed in %s", p.done, p.failed, p.now().Sub(p.start).Round(time.Second))
}
