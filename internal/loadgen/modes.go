package loadgen

import (
	"context"
	"sync"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
)

// closedLoop runs users (Locust's semantics) or a fixed concurrency: each user sends a
// request, reads its whole stream, thinks, and repeats until sending stops. Users start at the
// spawn rate; concurrency slots all start at once. It returns when every user has finished.
func (r *Runner) closedLoop(sendCtx, reqCtx context.Context) {
	users, concurrency, _, spawn := r.cfg.level()
	n, think := users, r.cfg.ThinkTime
	if r.cfg.Mode == loadspec.ModeConcurrency {
		n, think, spawn = concurrency, 0, 0
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	r.spawn(sendCtx, reqCtx, &wg, n, spawn, think)
}

// spawn starts n users, spawn per second, or spread evenly over the start ramp, or all at
// once.
func (r *Runner) spawn(sendCtx, reqCtx context.Context, wg *sync.WaitGroup, n int, spawn float64, think time.Duration) {
	for u := range n {
		if at := startOf(u, n, spawn, r.cfg.StartRamp); at > 0 {
			if r.waiter.WaitUntil(sendCtx, r.start.Add(at)) != nil {
				return
			}
		}
		if sendCtx.Err() != nil || time.Since(r.start) >= r.cfg.sendWindow() {
			return
		}
		r.prog.users.Add(1)
		wg.Add(1)
		usr := &user{r: r, sendCtx: sendCtx, reqCtx: reqCtx, id: u, think: think, wg: wg}
		go usr.next()
	}
}

// startOf is when user (or slot) u of n starts: spawn per second, or spread evenly over
// ramp, or at once.
func startOf(u, n int, spawn float64, ramp time.Duration) time.Duration {
	switch {
	case spawn > 0:
		return time.Duration(float64(u) / spawn * float64(time.Second))
	case ramp > 0:
		return time.Duration(int64(ramp) * int64(u) / int64(n))
	}
	return 0
}

// failurePause is how long a closed-loop user waits after a failed request before the next
// one, so that a server refusing connections does not make users spin and write millions of
// records.
const failurePause = 10 * time.Millisecond

// user is one closed-loop user between its requests. It holds no goroutine while its
// request streams or while it thinks: each step runs on a short goroutine of its own (the
// one that sends, then the one the end of the response or of the pause runs on).
type user struct {
	r               *Runner
	sendCtx, reqCtx context.Context
	id              int
	think           time.Duration
	conv            userConversation
	wg              *sync.WaitGroup // done when the user stops
}

// next sends the user's next request, or stops the user once sending is over.
func (u *user) next() {
	r := u.r
	due := time.Since(r.start)
	if due >= r.cfg.sendWindow() || u.sendCtx.Err() != nil { // the clock decides, not which timer fires first
		u.wg.Done()
		return
	}
	seq := r.seq.Add(1) - 1
	if limit := r.cfg.maxRequests(); limit > 0 && seq >= limit {
		u.wg.Done()
		return
	}
	r.send(u.reqCtx, seq, due, u.id, r.nextTurn(&u.conv), u.answered)
}

// answered thinks, or pauses after a failure, then sends the next request.
func (u *user) answered(ok bool) {
	pause := u.think
	if !ok {
		pause = max(u.think, failurePause)
	}
	if pause > 0 {
		afterPause(u.sendCtx, pause, u.next)
		return
	}
	// On a goroutine of its own: net/http's transport calls answered before send returns,
	// and a user that called next here would grow its stack by a request each time.
	go u.next()
}

// afterPause runs f on a goroutine of its own after d, or as soon as ctx is done if that is
// sooner: a sleep that holds no goroutine.
func afterPause(ctx context.Context, d time.Duration, f func()) {
	var once sync.Once
	run := func() { once.Do(f) }
	stop := context.AfterFunc(ctx, run)
	time.AfterFunc(d, func() {
		stop()
		run()
	})
}

// openLoop sends requests when the schedule says they are due, each on its own goroutine,
// whatever the server does: a slow server makes requests pile up in flight, not wait to be
// sent. With MaxInflight, a request waits for a free slot (sent late, its due time kept); those
// still waiting when sending stops are recorded as not sent. It returns when every request
// has finished.
func (r *Runner) openLoop(sendCtx, reqCtx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	var slots chan struct{}
	if r.cfg.MaxInflight > 0 {
		slots = make(chan struct{}, r.cfg.MaxInflight)
	}
	r.dispatch(sendCtx, reqCtx, &wg, slots)
}

// dispatch sends every request of the schedule when it is due.
func (r *Runner) dispatch(sendCtx, reqCtx context.Context, wg *sync.WaitGroup, slots chan struct{}) {
	for n := uint64(0); ; n++ {
		due, ok := r.sched.At(n)
		if limit := r.cfg.maxRequests(); !ok || due >= r.cfg.sendWindow() || limit > 0 && n >= limit {
			return
		}
		if r.waiter.WaitUntil(sendCtx, r.start.Add(due)) != nil {
			return
		}
		if slots != nil && !r.acquire(sendCtx, slots) {
			r.dropBacklog(n)
			return
		}
		wg.Add(1)
		go r.send(reqCtx, n, due, -1, -1, func(bool) {
			if slots != nil {
				<-slots
			}
			wg.Done()
		})
	}
}

// acquire takes an in-flight slot, counting the times the cap made a request wait.
func (r *Runner) acquire(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
	}
	r.capWaits.Add(1)
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// dropBacklog records request n and every later one already due as not sent.
func (r *Runner) dropBacklog(n uint64) {
	now := time.Since(r.start)
	for ; ; n++ {
		due, ok := r.sched.At(n)
		if limit := r.cfg.maxRequests(); !ok || due > now || due >= r.cfg.sendWindow() || limit > 0 && n >= limit {
			return
		}
		r.notSent(n, due, now)
	}
}
