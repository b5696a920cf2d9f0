// Package loadspec is the load of one experiment as a value: its mode and level, the API it
// speaks, its prompts, tokens and timing. The matrix expands into it, `llmscale load`'s flags
// build it, the campaign hands it to load workers as JSON (`llmscale load --config`), and the
// load generator runs it. It is a leaf: it imports nothing of llmscale.
package loadspec

import (
	"fmt"
	"strings"
	"time"
)

// Mode is what the load level counts.
type Mode string

// Load modes.
const (
	ModeUsers       Mode = "users"       // closed loop: N users, each sends, reads the stream, thinks, repeats
	ModeConcurrency Mode = "concurrency" // closed loop: N requests in flight at all times
	ModeRate        Mode = "rate"        // open loop: requests due on a schedule, sent whatever the server does

	// ModeSweep is a matrix's: it finds saturation itself, each of its experiments one point
	// of a sweep, run in one of the modes above once the campaign knows its level.
	ModeSweep Mode = "sweep"
)

// Modes lists the modes a load runs in, in the order the documentation gives them.
func Modes() []Mode { return []Mode{ModeUsers, ModeConcurrency, ModeRate} }

// Valid reports whether m is one of Modes: a load runs in it.
func (m Mode) Valid() bool {
	return m == ModeUsers || m == ModeConcurrency || m == ModeRate
}

// Closed reports whether the mode is a closed loop: its level bounds the requests in flight.
func (m Mode) Closed() bool { return m == ModeUsers || m == ModeConcurrency }

// API is the OpenAI-compatible endpoint requests go to.
type API string

// APIs.
const (
	APICompletions API = "completions" // POST /v1/completions
	APIChat        API = "chat"        // POST /v1/chat/completions
)

// Path is the API's request path.
func (a API) Path() string {
	if a == APIChat {
		return "/v1/chat/completions"
	}
	return "/v1/completions"
}

// Valid reports whether a is a known API.
func (a API) Valid() bool { return a == APICompletions || a == APIChat }

// Intensity is how much load: the mode and its level. Only the mode's own field is used.
type Intensity struct {
	Mode        Mode    `json:"mode"`
	Users       int     `json:"users,omitempty"`
	Concurrency int     `json:"concurrency,omitempty"`
	Rate        float64 `json:"rate,omitempty"` // requests/s
}

// Level returns the load level in its mode's unit (users, in-flight requests, requests/s).
func (i Intensity) Level() float64 {
	switch i.Mode {
	case ModeUsers:
		return float64(i.Users)
	case ModeConcurrency:
		return float64(i.Concurrency)
	}
	return i.Rate
}

// SLO are service-level objectives per request; a zero field is no objective.
type SLO struct {
	TTFT time.Duration `json:"-"`
	TPOT time.Duration `json:"-"`
	E2E  time.Duration `json:"-"`
}

// Any reports whether an objective is set.
func (o SLO) Any() bool { return o.TTFT > 0 || o.TPOT > 0 || o.E2E > 0 }

// String is the objectives as vLLM's --goodput writes them, e.g. "ttft:500 tpot:50" (ms).
func (o SLO) String() string {
	var parts []string
	for _, x := range []struct {
		name string
		d    time.Duration
	}{{"ttft", o.TTFT}, {"tpot", o.TPOT}, {"e2el", o.E2E}} {
		if x.d > 0 {
			parts = append(parts, fmt.Sprintf("%s:%g", x.name, float64(x.d)/1e6))
		}
	}
	return strings.Join(parts, " ")
}

// Meets reports whether a completed request met every objective, as vLLM's benchmark judges
// goodput: a request of one output token has TPOT 0.
func (o SLO) Meets(ttft, tpot, e2e int64, output int32) bool {
	if output <= 1 {
		tpot = 0
	}
	return (o.TTFT <= 0 || ttft <= int64(o.TTFT)) && (o.TPOT <= 0 || tpot <= int64(o.TPOT)) &&
		(o.E2E <= 0 || e2e <= int64(o.E2E))
}

// Load is one load run as the user or the campaign specifies it. Durations are written in
// JSON as Go durations ("90s"). A zero Grace is no grace; every other setting is taken as
// given (the load generator refuses what cannot run).
type Load struct {
	Intensity
	Targets     []string `json:"targets"` // base URLs; with several, each request goes to the least busy
	API         API      `json:"api"`
	Model       string   `json:"model"`
	SpawnRate   float64  `json:"spawn_rate"`   // users mode: users started per second; 0 starts them all at once
	Arrival     string   `json:"arrival"`      // rate mode: poisson | gamma | constant
	Burstiness  float64  `json:"burstiness"`   // gamma shape: 1 is Poisson, < 1 burstier
	MaxInflight int      `json:"max_inflight"` // rate mode: cap on requests in flight; 0 = none

	// ConnectRate paces the connections a closed-loop run opens before its start, one per
	// user or slot, per second; 0 takes the load generator's default, -1 opens none ahead.
	ConnectRate float64 `json:"connect_rate"`
	// StartRamp spreads the first requests of a burst start (concurrency, or users without a
	// spawn rate) evenly over this time; 0 sends them all at once.
	StartRamp time.Duration `json:"-"`

	// PromptSet names the prompts as `llmscale load --prompts` takes them (a file, a name N
	// for config/prompts_N.txt, random:IN:OUT or a dataset); VocabSize bounds random token
	// ids (0: [1000, 100000)); Tokenizer counts prompt lengths as the model does.
	PromptSet       string `json:"prompt_set"`
	VocabSize       int    `json:"vocab_size"`
	Tokenizer       string `json:"tokenizer,omitempty"`
	MaxTokens       int    `json:"max_tokens"`       // output tokens per request, unless the prompt carries its own
	IgnoreEOS       bool   `json:"ignore_eos"`       // ask the server to generate exactly max_tokens
	ContinuousUsage bool   `json:"continuous_usage"` // ask for usage on every chunk (vLLM)
	Seed            int64  `json:"seed"`

	Warmup       time.Duration `json:"-"` // before the measured window
	RunTime      time.Duration `json:"-"` // the measured window
	Cooldown     time.Duration `json:"-"` // after it, load still on
	ThinkTime    time.Duration `json:"-"` // users mode: a user's pause between requests
	Timeout      time.Duration `json:"-"` // a whole request
	StallTimeout time.Duration `json:"-"` // longest silence once a response body has started
	Grace        time.Duration `json:"-"` // in-flight requests may finish this long after sending stops

	// MaxRequests, when positive, ends the load after that many requests (all workers
	// together), as vllm bench serve's --num-prompts.
	MaxRequests int `json:"max_requests"`
	// SLO are the objectives goodput counts against, as vllm bench serve's --goodput.
	SLO SLO `json:"slo"`

	Client       string    `json:"client"` // how responses are read: auto | net/http | epoll | io_uring
	ExperimentID string    `json:"exp_id"`
	WorkerCount  int       `json:"workers"`           // workers sharing this load, each taking its share
	StartAt      time.Time `json:"start_at,omitzero"` // agreed start (wall clock); zero starts now
}
