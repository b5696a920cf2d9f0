package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmscale/llmscale/internal/host"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/schedule"
	"github.com/llmscale/llmscale/internal/sse"
	"github.com/llmscale/llmscale/internal/stats"
)

// Runner runs one load. Make it with New, call Run once, and poll Progress from any goroutine
// while it runs. It is three parts: the plan New prepares from the configuration (read-only
// while the load runs), the transport that sends requests, and the run's state.
type Runner struct {
	plan
	runState
	tr     transport    // net/http or epoll, while Run runs
	opened *openedConns // the transport's dialer: connections opened before the start first
	sink   Sink
}

// plan is what New prepares from the configuration: read-only once Run starts.
type plan struct {
	cfg     Config
	prompts []prompt
	order   []int   // the seeded order prompts are sent in (a trace's: trace order)
	convs   [][]int // multi-turn conversations: prompt indices by turn (nil otherwise)
	targets []*target
	sched   schedule.Schedule // rate mode
}

// runState is what changes while the load runs: clocks, counters, the records on their way
// to the summary and the sink.
type runState struct {
	conns    connCounter
	pre      preconnected
	nextConv atomic.Uint64 // the next conversation a user takes
	readers  sync.Pool
	watch    watchdog
	prog     progress
	waiter   Waiter
	acc      stats.Accumulator // fed by the collector goroutine only
	records  chan results.Request

	start     time.Time // the experiment's start; every offset is from here
	wallStart int64     // the same moment on the wall clock, Unix ns
	stoppedAt atomic.Int64
	ran       atomic.Bool
	seq       atomic.Uint64 // closed loop: the next sequence number
	rr        atomic.Uint64 // round robin among equally busy targets
	capWaits  atomic.Int64

	limitMu sync.Mutex
	limits  map[string]bool // client resources that ran out (file descriptors, local ports)

	down      downTargets
	abortSend context.CancelCauseFunc // stops sending; set while Run runs
}

type target struct {
	base, url   string
	head        []byte // the epoll client's request line and header fields, up to Content-Length's value
	dialAddr    string // host:port its connections go to (the epoll client's address)
	outstanding atomic.Int64
	down        atomic.Bool // refused a connection: out of the balancer
}

// New checks the configuration and prepares a run: request bodies, the prompt order, the
// schedule and the HTTP client.
func New(cfg Config, sink Sink) (*Runner, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	prompts, err := buildPrompts(cfg)
	if err != nil {
		return nil, err
	}
	r := &Runner{plan: plan{cfg: cfg, prompts: prompts}, sink: sink, opened: newOpenedConns(cfg.Dial)}
	r.records, r.limits = make(chan results.Request, 8192), map[string]bool{}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.WorkerID)+1))
	r.order = rng.Perm(len(prompts))
	r.convs = conversations(cfg.Prompts, rng)
	for _, t := range cfg.Targets {
		tgt := &target{base: t, url: targetURL(t, cfg.endpoint())}
		tgt.head = requestHead(tgt.url, cfg.APIKey)
		tgt.dialAddr, _ = dialAddr(tgt.url) // Validate has refused a target without a host
		r.targets = append(r.targets, tgt)
	}
	if cfg.Mode == loadspec.ModeRate && timed(cfg.Prompts) {
		if r.sched, r.order, err = traceSchedule(cfg, cfg.Prompts); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	} else if cfg.Mode == loadspec.ModeRate {
		if r.sched, err = newSchedule(cfg); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	r.acc.SLO = cfg.SLO
	// Streams waiting for their next chunk on the event loop lend their read buffer back.
	bufs := sse.NewBuffers(4 << 10)
	r.readers.New = func() any { return sse.NewReaderOptions(nil, sse.Options{Buffers: bufs}) }
	r.watch.init(cfg.StallTimeout)
	return r, nil
}

// newSchedule is this worker's share of the open-loop schedule.
func newSchedule(c Config) (schedule.Schedule, error) {
	_, _, rate, _ := c.level()
	return schedule.New(schedule.Options{
		Kind: c.Arrival, PerSecond: rate, Shape: c.Burstiness, Count: int(c.maxRequests()),
		Seed:    uint64(c.Seed)*0x100000001b3 + uint64(c.WorkerID),
		Horizon: c.sendWindow(),
		Offset:  time.Duration(float64(c.WorkerID) / c.Rate * float64(time.Second)),
	})
}

// Run runs the load with New and Run.
func Run(ctx context.Context, cfg Config, sink Sink) (Summary, error) {
	r, err := New(cfg, sink)
	if err != nil {
		return Summary{}, err
	}
	return r.Run(ctx)
}

// Run sends the load, writes every record to the sink and closes it, and returns the summary.
// Cancelling ctx (a first Ctrl-C) stops sending; requests in flight get the grace period to
// finish, then are cancelled and recorded as such. Run never outlasts warm-up + run time +
// cool-down + grace. The error is ErrAllFailed (with the summary) when every request failed,
// or a sink's error.
func (r *Runner) Run(ctx context.Context) (Summary, error) {
	if !r.ran.CompareAndSwap(false, true) {
		return Summary{}, errors.New("loadgen: Run called twice")
	}
	tr, err := newTransport(r.cfg, &r.conns, r.opened.Dial)
	if err != nil {
		return Summary{}, errors.Join(err, r.sink.Close())
	}
	r.tr = tr
	defer tr.close()
	defer r.opened.closeAll()
	waiter, release := r.cfg.newWaiter()
	defer release()
	r.waiter = waiter
	// The connections and the host are made ready before the agreed start: neither dials nor
	// reading /proc (milliseconds) may delay the start or the first requests.
	r.preconnect(ctx, waiter)
	host0, hostErr := r.hostSnapshot()
	if err := sleepCtx(ctx, time.Until(r.cfg.StartAt)); err != nil {
		err = fmt.Errorf("waiting for the agreed start %s: %w", r.cfg.StartAt.Format(time.RFC3339Nano), err)
		return Summary{}, errors.Join(err, r.sink.Close()) // an empty file: nothing was sent
	}
	r.start = time.Now()
	r.wallStart = r.start.UnixNano()
	cpu0 := cpuTime()
	r.prog.begin(r.start, r.cfg)

	sendCtx, stopSending := context.WithDeadline(ctx, r.start.Add(r.cfg.sendWindow()))
	defer stopSending()
	sendCtx, r.abortSend = context.WithCancelCause(sendCtx)
	defer r.abortSend(nil)
	reqCtx, cancelAll := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelAll(nil)
	stopTimers := r.deadlines(ctx, cancelAll)
	defer stopTimers()

	if err := r.acc.Spill(""); err == nil { // else the summary keeps it all in memory, as before
		defer r.acc.Close()
	}
	collected := make(chan error, 1)
	go func() { collected <- r.collect() }()
	watchDone := r.watch.start(r.start)
	wake := startProbe()

	if r.cfg.Mode == loadspec.ModeRate {
		r.openLoop(sendCtx, reqCtx)
	} else {
		r.closedLoop(sendCtx, reqCtx)
	}
	wall := time.Since(r.start)
	cpu := cpuTime() - cpu0
	host1, hostErr1 := r.hostSnapshot()
	wakeLag := wake.finish()
	watchDone()
	close(r.records)
	err = <-collected
	if cerr := r.sink.Close(); err == nil {
		err = cerr
	}
	r.prog.end()
	s := r.summary(wall, cpu, wakeLag)
	if r.cfg.WorkerCount > 1 {
		s.PID = os.Getpid()
	}
	if hostErr == nil && hostErr1 == nil && r.cfg.Host != nil {
		s.setHost(host.Compare(host0, host1, wall.Seconds(), host.TicksPerSecond, os.Getpid(), host.ClientCores()))
	}
	if err == nil && s.Sent > 0 && r.acc.Succeeded() == 0 {
		err = fmt.Errorf("%w: none of the %d requests sent succeeded: %s", ErrAllFailed, s.Sent, strings.Join(s.FirstErrors, "; "))
	}
	if derr := r.downErr(); derr != nil && (err == nil || errors.Is(err, ErrAllFailed)) {
		err = errors.Join(err, derr)
	}
	return s, err
}

// deadlines arms the two ends of a run: when the run's time plus grace is over, and grace
// after a Ctrl-C; then whatever is still in flight is cancelled.
func (r *Runner) deadlines(ctx context.Context, cancelAll context.CancelCauseFunc) (stop func()) {
	// A request still running when the cool-down ends can count in no window: it is cancelled
	// then rather than waited for. Without a cool-down, requests get the grace period to end
	// (k6's graceful stop).
	end, cause := r.cfg.sendWindow()+r.cfg.Grace, errRunOver
	if r.cfg.Cooldown > 0 {
		end, cause = r.cfg.sendWindow(), errCooldownOver
	}
	hard := time.AfterFunc(time.Until(r.start.Add(end)), func() { cancelAll(cause) })
	var mu sync.Mutex
	var grace *time.Timer
	stopWatching := context.AfterFunc(ctx, func() {
		at := r.offset(time.Now())
		r.stoppedAt.Store(at)
		r.prog.stop(time.Duration(at))
		mu.Lock()
		grace = time.AfterFunc(r.cfg.Grace, func() { cancelAll(errInterrupted) })
		mu.Unlock()
	})
	return func() {
		hard.Stop()
		stopWatching()
		mu.Lock()
		if grace != nil {
			grace.Stop()
		}
		mu.Unlock()
	}
}

// collect feeds records to the summary and to the sink in batches, until the channel closes.
// A sink error is kept and returned, and the records are still drained.
func (r *Runner) collect() error {
	const batch = 256
	var sinkErr error
	buf := make([]results.Request, 0, batch)
	flush := func() {
		if len(buf) > 0 && sinkErr == nil {
			sinkErr = r.sink.Write(buf)
		}
		buf = buf[:0]
	}
	for rec := range r.records {
		r.acc.Add(&rec)
		buf = append(buf, rec)
		if len(buf) == batch || len(r.records) == 0 {
			flush()
		}
	}
	flush()
	if sinkErr != nil {
		return fmt.Errorf("write request records: %w", sinkErr)
	}
	return nil
}

// send sends one request and records it, then calls then with whether it succeeded (on
// another goroutine, or before send returns: see transport.start). pi is the prompt's index,
// or -1 for the seeded order's prompt of seq.
func (r *Runner) send(reqCtx context.Context, seq uint64, due time.Duration, user, pi int, then func(ok bool)) {
	if pi < 0 {
		pi = r.order[seq%uint64(len(r.order))]
	}
	p := &r.prompts[pi]
	tgt := r.pick()
	rec := &results.Request{ExperimentID: r.cfg.ExperimentID, WorkerID: int32(r.cfg.WorkerID), Seq: int64(seq),
		Target: tgt.base, User: int32(user), PromptIndex: int32(p.index), MaxTokens: int32(p.maxTokens),
		DueNs: int64(due)}
	// One context a request, its timeout a timer: a context with a deadline would be a second
	// one, with its own channel and timer, held by every open stream.
	ctx, cancel := context.WithCancelCause(reqCtx)
	timeout := time.AfterFunc(r.cfg.Timeout, func() { cancel(errTimeout) })
	x := &exchange{r: r, rec: rec, p: p, cancel: cancel, first: -1, vFirst: -1, usageP: -1, usageC: -1}
	r.prog.began()
	r.tr.start(ctx, x, tgt, func() {
		timeout.Stop()
		cancel(nil)
		tgt.outstanding.Add(-1)
		x.complete()
		rec.StartUnixNs = r.wallStart + rec.SentNs
		if refused(rec) {
			r.targetDown(tgt, rec.Error)
		}
		ok := rec.OK()
		r.emit(*rec)
		then(ok)
	})
}

// notSent records a request the in-flight cap kept from being sent before sending stopped.
func (r *Runner) notSent(seq uint64, due, end time.Duration) {
	r.emit(results.Request{ExperimentID: r.cfg.ExperimentID, WorkerID: int32(r.cfg.WorkerID), Seq: int64(seq),
		User: -1, DueNs: int64(due), EndNs: int64(end), StartUnixNs: r.wallStart + int64(due),
		ErrorKind: results.ErrorNotSent, Error: fmt.Sprintf("held by the in-flight cap (%d) until sending stopped", r.cfg.MaxInflight)})
}

func (r *Runner) emit(rec results.Request) {
	rec.Phase = r.phase(time.Duration(rec.EndNs))
	r.prog.finished(&rec)
	r.records <- rec
}

// phase is the window a request belongs to, by when it ended.
func (r *Runner) phase(end time.Duration) string {
	switch {
	case end < r.cfg.Warmup:
		return results.PhaseWarmup
	case end < r.cfg.Warmup+r.cfg.RunTime:
		return results.PhaseMeasure
	}
	return results.PhaseCooldown
}

// hostSnapshot reads the machine, when the configuration asks for it.
func (r *Runner) hostSnapshot() (host.Snapshot, error) {
	if r.cfg.Host == nil {
		return host.Snapshot{}, errors.New("no host sampler")
	}
	return r.cfg.Host.Snapshot()
}

func (r *Runner) offset(t time.Time) int64 { return int64(t.Sub(r.start)) }

func (r *Runner) noteClientLimit(what string) {
	r.limitMu.Lock()
	r.limits[what] = true
	r.limitMu.Unlock()
}

// ranOut lists the client resources that ran out during the run, in a fixed order.
func (r *Runner) ranOut() []string {
	r.limitMu.Lock()
	defer r.limitMu.Unlock()
	var out []string
	for _, what := range []string{LimitFiles, LimitPorts, LimitBuffers, LimitSendTime} {
		if r.limits[what] {
			out = append(out, what)
		}
	}
	return out
}

// watchdog cancels requests whose stream went silent for longer than the stall timeout.
type watchdog struct {
	stall  time.Duration
	mu     sync.Mutex
	active map[*activity]struct{}
}

func (w *watchdog) init(stall time.Duration) {
	w.stall = stall
	w.active = map[*activity]struct{}{}
}

func (w *watchdog) add(a *activity) {
	w.mu.Lock()
	w.active[a] = struct{}{}
	w.mu.Unlock()
}

func (w *watchdog) remove(a *activity) {
	w.mu.Lock()
	delete(w.active, a)
	w.mu.Unlock()
}

// start checks every active stream a few times per stall timeout; the returned func stops it.
func (w *watchdog) start(origin time.Time) (stop func()) {
	every := max(w.stall/8, 5*time.Millisecond)
	t := time.NewTicker(every)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				w.check(time.Duration(now.Sub(origin)))
			}
		}
	}()
	return func() { t.Stop(); close(done); <-finished }
}

func (w *watchdog) check(now time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for a := range w.active {
		if silent := now - time.Duration(a.last.Load()); silent > w.stall {
			a.cancel(fmt.Errorf("%w: no byte for %v (stall timeout %v)", errStall, silent.Round(time.Millisecond), w.stall))
		}
	}
}
