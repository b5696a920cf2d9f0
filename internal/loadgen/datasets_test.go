package loadgen

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/workload"
)

func traceOf(arrivals ...time.Duration) []workload.Prompt {
	out := make([]workload.Prompt, len(arrivals))
	for i, a := range arrivals {
		out[i] = workload.Prompt{Text: "hello there friend", Tokens: 3, MaxTokens: 2, Arrival: a, Timed: true}
	}
	return out
}

func TestTraceSchedule(t *testing.T) {
	t.Parallel()
	s := time.Second
	ps := traceOf(0, 1*s, 1*s, 3*s, 4*s) // 4 gaps over 4 s: a native rate of 1 req/s
	cases := []struct {
		rate          float64
		worker, count int
		want          []time.Duration
		order         []int
	}{
		{rate: 1, worker: 0, count: 1, want: []time.Duration{0, s, s, 3 * s, 4 * s}, order: []int{0, 1, 2, 3, 4}},
		{rate: 2, worker: 0, count: 1, want: []time.Duration{0, s / 2, s / 2, 3 * s / 2, 2 * s}, order: []int{0, 1, 2, 3, 4}},
		{rate: 0.5, worker: 1, count: 2, want: []time.Duration{2 * s, 6 * s}, order: []int{1, 3}},
	}
	for _, c := range cases {
		sched, order, err := traceSchedule(Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Rate: c.rate}, WorkerCount: c.count}, WorkerID: c.worker}, ps)
		if err != nil {
			t.Fatal(err)
		}
		for n, want := range c.want {
			if got, ok := sched.At(uint64(n)); !ok || got != want || order[n] != c.order[n] {
				t.Errorf("rate %g worker %d/%d: request %d at %v (ok %v) prompt %d, want %v prompt %d", c.rate, c.worker,
					c.count, n, got, ok, order[n], want, c.order[n])
			}
		}
		if _, ok := sched.At(uint64(len(c.want))); ok {
			t.Errorf("rate %g: the schedule goes on past the trace", c.rate)
		}
	}
	if _, _, err := traceSchedule(Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Rate: 1}, WorkerCount: 1}}, traceOf(s, s)); err == nil {
		t.Error("a trace whose entries all arrive at once has no rate: want an error")
	}
}

// TestTraceReplay: a trace in rate mode is sent at its (scaled) times, in order; outside rate
// mode it is refused.
func TestTraceReplay(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	srv := &fakeServer{ttft: ms, itl: ms}
	_, err, rows := runFake(t, srv, func(c *Config) {
		c.Mode, c.Rate, c.RunTime = loadspec.ModeRate, 20, time.Second
		c.Prompts = traceOf(0, 100*ms, 150*ms, 400*ms) // native 3 gaps / 0.4 s = 7.5 req/s; at 20: ×0.375
		for i := range c.Prompts {
			c.Prompts[i].MaxTokens = i + 1
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{0, 37500 * time.Microsecond, 56250 * time.Microsecond, 150 * ms}
	if len(rows) != len(want) {
		t.Fatalf("%d requests, want %d (one per trace entry)", len(rows), len(want))
	}
	for i, r := range rows {
		if time.Duration(r.DueNs) != want[i] || int(r.MaxTokens) != int(r.Seq)+1 {
			t.Errorf("request %d: due %v max_tokens %d, want %v and %d", r.Seq, time.Duration(r.DueNs), r.MaxTokens, want[i], r.Seq+1)
		}
	}
	cfg := baseConfig(nil)
	cfg.Prompts = traceOf(0, ms)
	if err := cfg.withDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "rate mode") {
		t.Errorf("a trace in concurrency mode: error %v, want one naming rate mode", err)
	}
}

// TestMultiTurn: each closed-loop user sends its conversation's turns in order, every turn
// with the history, on the chat API.
func TestMultiTurn(t *testing.T) {
	t.Parallel()
	var ps []workload.Prompt
	for c := 1; c <= 3; c++ {
		var msgs []workload.Message
		for turn := range 3 {
			msgs = append(msgs, workload.Message{Role: "user", Content: strings.Repeat("q", c) + string(rune('a'+turn))})
			ps = append(ps, workload.Prompt{Text: "x", Tokens: 3, MaxTokens: 2, Messages: append([]workload.Message(nil), msgs...),
				Conversation: c, Turn: turn})
			msgs = append(msgs, workload.Message{Role: "assistant", Content: "reply"})
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	srv := &fakeServer{api: loadspec.APIChat, ttft: time.Millisecond, itl: time.Millisecond}
	_, err, rows := runFake(t, srv, func(c *Config) {
		c.API, c.Concurrency, c.RunTime, c.Prompts = loadspec.APIChat, 1, 100*time.Millisecond, ps
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(srv.bodies) < 6 {
		t.Fatalf("%d requests, want at least two conversations' worth", len(srv.bodies))
	}
	for i, b := range srv.bodies[:6] {
		turn := i % 3
		if len(b.Messages) != 2*turn+1 {
			t.Fatalf("request %d: %d messages, want %d (turn %d with its history)", i, len(b.Messages), 2*turn+1, turn)
		}
		first, last := b.Messages[0].Content, b.Messages[len(b.Messages)-1].Content
		if last[len(last)-1] != byte('a'+turn) || first[:len(first)-1] != last[:len(last)-1] {
			t.Errorf("request %d: messages %+v are not turn %d of one conversation", i, b.Messages, turn)
		}
	}
	_ = rows
}
