package loadgen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/schedule"
	"github.com/llmscale/llmscale/internal/workload"
)

// timed reports whether the prompts are a trace: every one carries its arrival.
func timed(ps []workload.Prompt) bool {
	return len(ps) > 0 && !slices.ContainsFunc(ps, func(p workload.Prompt) bool { return !p.Timed })
}

// validateDatasets refuses a trace outside rate mode: its times are an open-loop schedule, and
// a closed loop would silently ignore them.
func (c Config) validateDatasets() []error {
	if timed(c.Prompts) && c.Mode != loadspec.ModeRate {
		return []error{fmt.Errorf("prompts are a trace (arrival times): replay it in rate mode, whose rate is the "+
			"trace's mean rate after time scaling; %s mode would ignore its times", c.Mode)}
	}
	return nil
}

// traceSchedule replays a trace open-loop, time-scaled so that its mean rate is the configured
// rate (a trace of 100 requests over 50 s, at rate 4, is replayed 2× faster: in 25 s); the
// burst pattern is kept. Worker w of W takes entries w, w+W, …; order maps the schedule's n to
// the prompt index.
func traceSchedule(c Config, ps []workload.Prompt) (schedule.Schedule, []int, error) {
	first, last := ps[0].Arrival, ps[len(ps)-1].Arrival-ps[0].Arrival
	if len(ps) < 2 || last <= 0 {
		return nil, nil, errors.New("the trace needs at least two entries at different times to have a rate")
	}
	native := float64(len(ps)-1) / last.Seconds()
	scale := native / c.Rate // multiplies the trace's times
	var arrivals schedule.Arrivals
	var order []int
	for i := c.WorkerID; i < len(ps); i += c.WorkerCount {
		arrivals = append(arrivals, time.Duration(float64(ps[i].Arrival-first)*scale))
		order = append(order, i)
	}
	return arrivals, order, nil
}

// conversations groups the prompts of multi-turn conversations by conversation, each in turn
// order, the conversations in a seeded order; nil when the prompts are not conversations.
func conversations(ps []workload.Prompt, rng *rand.Rand) [][]int {
	byConv := map[int][]int{}
	var ids []int
	for i, p := range ps {
		if p.Conversation == 0 {
			continue
		}
		if _, ok := byConv[p.Conversation]; !ok {
			ids = append(ids, p.Conversation)
		}
		byConv[p.Conversation] = append(byConv[p.Conversation], i)
	}
	if len(ids) == 0 {
		return nil
	}
	out := make([][]int, len(ids))
	for i, j := range rng.Perm(len(ids)) {
		turns := byConv[ids[j]]
		slices.SortFunc(turns, func(a, b int) int { return ps[a].Turn - ps[b].Turn })
		out[i] = turns
	}
	return out
}

// userConversation is what one closed-loop user holds of its conversation: it sends the turns
// in order, then takes the next conversation no user has taken (cycling when all have been).
type userConversation struct {
	turns []int
	next  int
}

// prompt returns the prompt index of the user's next request, -1 without conversations.
func (r *Runner) nextTurn(uc *userConversation) int {
	if r.convs == nil {
		return -1
	}
	if uc.next >= len(uc.turns) {
		uc.turns, uc.next = r.convs[(r.nextConv.Add(1)-1)%uint64(len(r.convs))], 0
	}
	uc.next++
	return uc.turns[uc.next-1]
}
