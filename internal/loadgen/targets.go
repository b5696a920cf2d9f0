package loadgen

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/llmscale/llmscale/internal/results"
)

// ErrTargetDown is returned by Run, with the summary, when a target refused a connection: it
// was taken out of the balancer and sending stopped at once, since every later request
// would have measured a dead port, not the server.
var ErrTargetDown = errors.New("a target refused connections")

// downTargets remembers the targets that refused a connection, in the order they did.
type downTargets struct {
	mu    sync.Mutex
	names []string
	first string // the first refusal's message
}

func (d *downTargets) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.names...)
}

// refused reports whether a request failed because nothing listens at its target: a refused
// connect looks instant and idle, so the least-in-flight balancer would send it most of the
// load.
func refused(rec *results.Request) bool {
	return rec.ErrorKind == results.ErrorConnect && strings.Contains(rec.Error, "connection refused")
}

// targetDown takes a target out of the balancer and stops sending; the first time only.
func (r *Runner) targetDown(t *target, msg string) {
	if !t.down.CompareAndSwap(false, true) {
		return
	}
	r.down.mu.Lock()
	r.down.names = append(r.down.names, t.base)
	if r.down.first == "" {
		r.down.first = msg
	}
	r.down.mu.Unlock()
	if r.abortSend != nil {
		r.abortSend(fmt.Errorf("%w: %s", ErrTargetDown, t.base))
	}
}

// downErr is Run's error when a target went down.
func (r *Runner) downErr() error {
	names := r.down.list()
	if len(names) == 0 {
		return nil
	}
	r.down.mu.Lock()
	first := r.down.first
	r.down.mu.Unlock()
	return fmt.Errorf("%w: %s (taken out of the balancer, sending stopped): %s", ErrTargetDown, strings.Join(names, ", "), first)
}

// pick returns the live target with the fewest requests outstanding and counts one more on
// it; ties go round the targets. When every target is down it picks among all of them.
func (r *Runner) pick() *target {
	if len(r.targets) == 1 {
		r.targets[0].outstanding.Add(1)
		return r.targets[0]
	}
	first := int(r.rr.Add(1) % uint64(len(r.targets)))
	var best *target
	for i := range r.targets {
		t := r.targets[(first+i)%len(r.targets)]
		if t.down.Load() {
			continue
		}
		if best == nil || t.outstanding.Load() < best.outstanding.Load() {
			best = t
		}
	}
	if best == nil {
		best = r.targets[first]
	}
	best.outstanding.Add(1)
	return best
}
