package loadgen

import (
	"sync"
	"time"

	"github.com/llmscale/llmscale/internal/stats"
)

// probeEvery is the period of the wake-up probe.
const probeEvery = 10 * time.Millisecond

// probe measures how late the client's own timer wakes up, every 10 ms of the run. A Go timer
// in an idle process wakes up to 1 ms late by design (the runtime sleeps in epoll with
// millisecond resolution); more than that means the process waited for a CPU — the client is
// saturated, or another process competes for its cores — and every timestamp of the run may
// be late by as much. No other check sees this: the client's own CPU use can be low while it
// waits.
type probe struct {
	mu   sync.Mutex
	lags []float64 // ms
	stop chan struct{}
	done chan struct{}
}

func startProbe() *probe {
	p := &probe{stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *probe) run() {
	defer close(p.done)
	t := time.NewTimer(probeEvery)
	defer t.Stop()
	due := time.Now().Add(probeEvery)
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			p.lags = append(p.lags, float64(now.Sub(due))/1e6)
			p.mu.Unlock()
			due = due.Add(probeEvery)
			if now.After(due) { // a long stall: do not replay the missed ticks
				due = now.Add(probeEvery)
			}
			t.Reset(time.Until(due))
		}
	}
}

// finish stops the probe and returns the wake-up lags.
func (p *probe) finish() Stat {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return stats.NewStat(p.lags)
}
