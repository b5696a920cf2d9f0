package sim

import (
	"testing"
	"time"
)

func testEngine(t *testing.T, maxSeqs, budget, blocks int) *engine {
	t.Helper()
	return newEngine(0, hardware(t, "h100-sxm", "llama-3-8b", 1, ""), maxSeqs, budget, 16, blocks)
}

func newReq(prompt, output int) *Request {
	return &Request{Prompt: prompt, MaxTokens: output, Output: output, scheduled: -1}
}

// stepOnce schedules and finishes one step at now, returning the requests that produced a
// token.
func stepOnce(e *engine, now time.Duration) (produced []*Request, preempted int) {
	ok, pre := e.schedule(now)
	if !ok {
		return nil, pre
	}
	e.finish(now+time.Millisecond, func(r *Request, _ bool) { produced = append(produced, r) })
	return produced, pre
}

func TestEngineBatchCap(t *testing.T) {
	t.Parallel()
	e := testEngine(t, 2, 8192, 10_000)
	for range 3 {
		e.enqueue(newReq(10, 5), 0)
	}
	e.schedule(0)
	if len(e.plan) != 2 || len(e.running) != 2 || len(e.waiting) != 1 {
		t.Fatalf("plan %d running %d waiting %d; want 2, 2, 1", len(e.plan), len(e.running), len(e.waiting))
	}
}

func TestEngineChunkedPrefill(t *testing.T) {
	t.Parallel()
	e := testEngine(t, 8, 256, 10_000)
	r := newReq(1000, 3)
	e.enqueue(r, 0)
	steps := 0
	for r.generated == 0 {
		produced, _ := stepOnce(e, time.Duration(steps)*time.Millisecond)
		steps++
		if e.shape.Tokens > 256 {
			t.Fatalf("step %d computed %d tokens, over the 256 budget", steps, e.shape.Tokens)
		}
		if steps < 4 && len(produced) > 0 {
			t.Fatalf("first token after %d steps; a 1000-token prompt needs 4 chunks of 256", steps)
		}
	}
	if steps != 4 {
		t.Errorf("first token after %d steps, want 4", steps)
	}
}

func TestEngineDecodeFirst(t *testing.T) {
	t.Parallel()
	e := testEngine(t, 8, 100, 10_000)
	a := newReq(10, 50)
	e.enqueue(a, 0)
	stepOnce(e, 0) // a's prefill and first token
	b := newReq(500, 5)
	e.enqueue(b, 0)
	e.schedule(time.Millisecond)
	if len(e.plan) != 2 || e.plan[0].r != a || e.plan[0].n != 1 || e.plan[1].r != b || e.plan[1].n != 99 {
		t.Fatalf("plan = %+v; want a's decode token first, then 99 prefill tokens of b", e.plan)
	}
}

func TestEnginePreemptsNewest(t *testing.T) {
	t.Parallel()
	// 16 blocks of 16 tokens: two requests of 64-token prompts fit (4 blocks each) and grow
	// until one must give way; each alone (164 tokens, 11 blocks) fits.
	e := testEngine(t, 8, 8192, 16)
	old, young := newReq(64, 100), newReq(64, 100)
	e.enqueue(old, 0)
	e.enqueue(young, 0)
	var preempted int
	for i := range 200 {
		_, p := stepOnce(e, time.Duration(i)*time.Millisecond)
		preempted += p
		if preempted > 0 {
			break
		}
	}
	if preempted == 0 {
		t.Fatal("no preemption although the KV cache overflowed")
	}
	if young.preempts != 1 || old.preempts != 0 {
		t.Errorf("preemptions: old %d, young %d; want the newest preempted", old.preempts, young.preempts)
	}
	if young.computed != 0 || young.blocks != 0 || e.waiting[0] != young {
		t.Errorf("preempted request keeps %d computed tokens, %d blocks; front of queue %v", young.computed, young.blocks, e.waiting[0] == young)
	}
	// It is recomputed later: prompt plus what it had generated, with no token emitted twice.
	before := young.generated
	for i := range 400 {
		stepOnce(e, time.Duration(100+i)*time.Millisecond)
	}
	if old.generated != 100 || young.generated != 100 {
		t.Errorf("generated old %d young %d, want 100 each (young had %d at preemption)", old.generated, young.generated, before)
	}
	if e.freeBlocks != e.blocks {
		t.Errorf("%d of %d blocks free after everything finished", e.freeBlocks, e.blocks)
	}
}

func TestEngineAbort(t *testing.T) {
	t.Parallel()
	e := testEngine(t, 1, 8192, 100)
	run, wait := newReq(10, 10), newReq(10, 10)
	e.enqueue(run, 0)
	e.enqueue(wait, 0)
	e.schedule(0)
	e.abort(wait)
	e.abort(run)
	e.finish(time.Millisecond, func(r *Request, _ bool) { t.Errorf("aborted request %p produced a token", r) })
	if !e.idle() || e.freeBlocks != e.blocks {
		t.Errorf("after aborts: idle %v, free blocks %d of %d", e.idle(), e.freeBlocks, e.blocks)
	}
}

func TestClusterOrderAndAbort(t *testing.T) {
	t.Parallel()
	eff, err := Resolve(Config{DP: 2})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingObserver{}
	c := NewCluster(eff.ClusterConfig(), rec)
	a, b, gone := newReq(100, 4), newReq(100, 4), newReq(100, 4)
	c.Submit(a, 0)
	c.Submit(b, 0)
	c.Submit(gone, 0)
	c.Abort(gone)
	c.AdvanceTo(10 * time.Second)
	if a.Rank() == b.Rank() {
		t.Errorf("two requests on an idle DP=2 server went to the same rank %d", a.Rank())
	}
	if got := rec.tokens[a] + rec.tokens[b]; got != 8 || rec.tokens[gone] != 0 {
		t.Errorf("delivered a+b %d (want 8), aborted %d (want 0)", got, rec.tokens[gone])
	}
	if !c.Idle() {
		t.Error("cluster not idle after everything finished")
	}
	for r, at := range rec.last {
		if at <= r.Arrival() {
			t.Errorf("request %d finished at %v, before it arrived at %v", r.ID(), at, r.Arrival())
		}
	}
}

type recordingObserver struct {
	tokens map[*Request]int
	last   map[*Request]time.Duration
	steps  int
}

func (o *recordingObserver) Deliver(r *Request, n int, done bool, at time.Duration) {
	if o.tokens == nil {
		o.tokens, o.last = map[*Request]int{}, map[*Request]time.Duration{}
	}
	o.tokens[r] += n
	if done {
		o.last[r] = at
	}
}
func (o *recordingObserver) Step(int, int, time.Duration, time.Duration) { o.steps++ }
func (o *recordingObserver) Preempt(int, *Request)                       {}
