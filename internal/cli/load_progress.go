package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/llmscale/llmscale/internal/loadgen"
)

// progressSource is what the live display polls.
type progressSource interface{ Progress() loadgen.Snapshot }

// startProgress shows the run's progress on stderr until the returned func is called: a bar
// redrawn every 100 ms on a terminal, a plain line every second otherwise, nothing with quiet.
func startProgress(env Env, src progressSource, quiet bool) (stop func()) {
	if quiet {
		return func() {}
	}
	tty := isTerminal(env.Stderr)
	every := time.Second
	if tty {
		every = 100 * time.Millisecond
	}
	return everyUntilStopped(every, func() {
		p := src.Progress()
		if tty {
			fmt.Fprint(env.Stderr, "\r\x1b[2K"+progressBar(p, 24)+" "+progressLine(p))
		} else if p.Phase != "waiting" {
			fmt.Fprintln(env.Stderr, "llmscale load: "+progressLine(p))
		}
	}, func() {
		if tty {
			fmt.Fprint(env.Stderr, "\r\x1b[2K")
		} else {
			fmt.Fprintln(env.Stderr, "llmscale load: "+progressLine(src.Progress()))
		}
	})
}

// CampaignProgressEvery is how often a campaign without a terminal prints a line about the
// running experiment.
const CampaignProgressEvery = 10 * time.Second

// startProgressLines prints a line every interval, prefixed, until the returned func is called:
// the running experiment of a campaign whose output goes to a log (a Slurm job's, a file).
func startProgressLines(env Env, src progressSource, prefix string, every time.Duration) (stop func()) {
	return everyUntilStopped(every, func() {
		if p := src.Progress(); p.Phase != "waiting" && p.Phase != "done" {
			fmt.Fprintln(env.Stderr, prefix+" "+progressLine(p))
		}
	}, func() {})
}

// everyUntilStopped calls tick every interval until the returned func is called; that func
// has final run after the last tick, on the same goroutine, and returns once it has.
func everyUntilStopped(every time.Duration, tick, final func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				final()
				return
			case <-t.C:
				tick()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

func progressLine(p loadgen.Snapshot) string {
	var b strings.Builder
	if p.Limit > 0 && p.Left > loadgen.NoTimeLimit/2 {
		fmt.Fprintf(&b, "%-8s %5.1fs in | sent %d of %d, in flight %d, done %d, failed %d", p.Phase, p.Elapsed.Seconds(),
			p.Sent, p.Limit, p.InFlight, p.Done, p.Failed)
	} else {
		fmt.Fprintf(&b, "%-8s %5.1fs left | sent %d, in flight %d, done %d, failed %d", p.Phase, p.Left.Seconds(),
			p.Sent, p.InFlight, p.Done, p.Failed)
	}
	if p.NotSent > 0 {
		fmt.Fprintf(&b, ", not sent %d", p.NotSent)
	}
	fmt.Fprintf(&b, " | %.1f req/s, %.0f tok/s | TTFT p50 %.0f ms", p.ReqRate, p.OutTokRate, float64(p.TTFTP50)/1e6)
	return b.String()
}

func progressBar(p loadgen.Snapshot, width int) string {
	frac := 1.0
	switch {
	case p.Limit > 0 && p.Phase != "done":
		frac = min(float64(p.Done+p.Failed)/float64(p.Limit), 1) // a load bounded by its count
	case p.Total > 0 && p.Phase != "draining" && p.Phase != "done":
		frac = min(max(p.Elapsed.Seconds()/p.Total.Seconds(), 0), 1)
	}
	n := int(frac * float64(width))
	return fmt.Sprintf("[%s%s] %3.0f%%", strings.Repeat("=", n), strings.Repeat(" ", width-n), 100*frac)
}
