// Package loadgen drives streaming load against OpenAI-compatible servers and times every
// request and every chunk: closed-loop users (Locust's semantics), a fixed number of requests in
// flight, or an open-loop request rate kept on a precomputed schedule. Each request becomes
// one results.Request row, written to a Sink; Run returns a Summary with vLLM's metric names
// and says whether the client itself limited the run.
package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/llmscale/llmscale/internal/host"
	"net"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/schedule"
	"github.com/llmscale/llmscale/internal/stats"
	"github.com/llmscale/llmscale/internal/workload"
)

// Load modes.
const (
	ModeUsers       = "users"       // closed loop: N users, each sends, reads the stream, thinks, repeats
	ModeConcurrency = "concurrency" // closed loop: N requests in flight at all times
	ModeRate        = "rate"        // open loop: requests due on a schedule, sent whatever the server does
)

// APIs.
const (
	APICompletions = "completions" // POST /v1/completions
	APIChat        = "chat"        // POST /v1/chat/completions
)

// Clients: how responses are read.
const (
	ClientAuto    = "auto"     // epoll where it can run (Linux, plain http://), else net/http; the default
	ClientNetHTTP = "net/http" // Go's net/http: a goroutine per response; TLS
	ClientEpoll   = "epoll"    // one event loop reads every response (plain http://, Linux): exact at thousands of streams
)

// Defaults applied to zero fields.
const (
	DefaultTimeout      = 10 * time.Minute
	DefaultStallTimeout = time.Minute
	DefaultGrace        = 30 * time.Second
	DefaultMaxTokens    = 128

	// NoGrace asks for no grace at all: requests still in flight when sending stops are
	// cancelled at once. A zero Grace takes DefaultGrace, as every zero field takes its default.
	NoGrace time.Duration = -1
)

// Config is one load run. Fields left zero take the defaults above; Validate reports the rest.
type Config struct {
	Targets []string // base URLs (http://host:port); with several, each request goes to the least busy
	API     string   // completions | chat
	Model   string
	APIKey  string // sent as "Authorization: Bearer"

	Mode        string
	Users       int     // users mode
	SpawnRate   float64 // users started per second; 0 starts them all at once
	Concurrency int     // concurrency mode
	Rate        float64 // rate mode: requests/s
	Arrival     string  // rate mode: poisson (default) | gamma | constant
	Burstiness  float64 // gamma shape: 1 is Poisson, < 1 burstier; 0 means 1
	MaxInflight int     // rate mode: cap on requests in flight; 0 = none

	// ConnectRate paces the connections a closed-loop run opens before its start, one per
	// user or slot, per second: the first requests then wait for no connect, and the server's
	// accept queue is not flooded. 0 takes DefaultConnectRate; NoPreconnect opens none (each
	// request connects when it is sent, inside its TTFT).
	ConnectRate float64
	// StartRamp spreads the first requests of a burst start (concurrency, or users without a
	// spawn rate) evenly over this time; 0 sends them all at once.
	StartRamp time.Duration

	Warmup    time.Duration // before the measured window; requests ending in it are marked warmup
	RunTime   time.Duration // the measured window
	Cooldown  time.Duration // after it; sending goes on, requests are marked cooldown
	ThinkTime time.Duration // users mode: a user's pause between requests

	// MaxRequests, when positive, ends the load after that many requests (all workers
	// together), as vllm bench serve's --num-prompts: sending stops at the last one and the
	// measured window ends when every request has ended, or at RunTime, whichever comes
	// first. Set RunTime to NoTimeLimit for a load bounded by its count alone.
	MaxRequests int

	// SLO are the objectives goodput counts against (zero fields: no objective), as vllm bench
	// serve's --goodput.
	SLO SLO

	Timeout      time.Duration // a whole request
	StallTimeout time.Duration // longest silence once a response body has started
	Grace        time.Duration // in-flight requests may finish this long after sending stops

	Prompts         []workload.Prompt
	MaxTokens       int  // output tokens per request, unless the prompt carries its own
	IgnoreEOS       bool // ask the server to generate exactly max_tokens (vLLM, SGLang)
	ContinuousUsage bool // ask for usage on every chunk (vLLM's continuous_usage_stats): exact tokens per chunk
	Seed            int64

	// Client reads the responses: ClientAuto (default), ClientNetHTTP or ClientEpoll.
	Client string

	ExperimentID string
	WorkerID     int       // 0-based
	WorkerCount  int       // workers sharing this load, each taking its share; 0 means 1
	StartAt      time.Time // agreed start (wall clock); zero starts now

	// Dial replaces the network dialer (tests: in-memory connections). TLSConfig replaces the
	// default TLS settings. Waiter replaces the precise waiter of the open-loop schedule and
	// of the spawn rate (nil: a timerfd-backed one on Linux; tests under testing/synctest use
	// TimerWaiter).
	Dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	TLSConfig *tls.Config
	Waiter    Waiter
	// Host samples the whole machine at the start and end of the run (host.Reader{} reads
	// /proc); nil leaves the host figures of the summary unknown.
	Host HostSampler
}

// HostSampler reads the machine's CPU counters and processes (host.Reader).
type HostSampler interface {
	Snapshot() (host.Snapshot, error)
}

// NoTimeLimit is a RunTime for a load bounded by MaxRequests alone.
const NoTimeLimit = time.Duration(1) << 60 // 36 years

// SLO are service-level objectives per request (stats.SLO); a zero field is no objective.
type SLO = stats.SLO

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("invalid load configuration")

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	if c.API == "" {
		c.API = APICompletions
	}
	if c.Client == "" || c.Client == ClientAuto {
		c.Client = c.autoClient()
	}
	if c.Arrival == "" {
		c.Arrival = schedule.KindPoisson
	}
	if c.Burstiness == 0 {
		c.Burstiness = 1
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = DefaultStallTimeout
	}
	switch c.Grace {
	case 0:
		c.Grace = DefaultGrace
	case NoGrace:
		c.Grace = 0
	}
	if c.MaxTokens == 0 {
		c.MaxTokens = DefaultMaxTokens
	}
	if c.WorkerCount == 0 {
		c.WorkerCount = 1
	}
	if c.ConnectRate == 0 {
		c.ConnectRate = DefaultConnectRate
	}
	return c
}

// Validate returns every problem of the configuration, joined.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.Targets) == 0 {
		bad("no target: give the server's base URL, e.g. http://127.0.0.1:8000")
	}
	for _, t := range c.Targets {
		if u, err := url.Parse(t); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("target %q: want http://HOST:PORT or https://HOST:PORT", t)
		}
	}
	switch c.Client {
	case ClientNetHTTP, ClientAuto:
	case ClientEpoll:
		for _, t := range c.Targets {
			if strings.HasPrefix(t, "https:") {
				bad("target %q: the epoll client speaks plain HTTP; use the net/http client for https", t)
			}
		}
	default:
		bad("client %q: want %s, %s or %s", c.Client, ClientAuto, ClientNetHTTP, ClientEpoll)
	}
	if c.API != APICompletions && c.API != APIChat {
		bad("api %q: want completions or chat", c.API)
	}
	if c.Model == "" {
		bad("no model name")
	}
	errs = append(errs, c.validateMode()...)
	errs = append(errs, c.validateStart()...)
	errs = append(errs, c.validateDatasets()...)
	if c.RunTime <= 0 {
		bad("run time %v: want a positive measured window", c.RunTime)
	}
	for name, d := range map[string]time.Duration{"warm-up": c.Warmup, "cool-down": c.Cooldown,
		"think time": c.ThinkTime, "timeout": c.Timeout, "stall timeout": c.StallTimeout, "grace": c.Grace} {
		if d < 0 {
			bad("%s %v is negative", name, d)
		}
	}
	if len(c.Prompts) == 0 {
		bad("no prompts")
	}
	for i, p := range c.Prompts {
		if c.API == APIChat && p.Text == "" {
			bad("prompt %d has no text: the chat API takes text, not token IDs", i)
			break
		}
	}
	if c.MaxTokens < 0 {
		bad("max tokens %d is negative", c.MaxTokens)
	}
	if c.MaxRequests < 0 || c.MaxRequests > 0 && c.MaxRequests < c.WorkerCount {
		bad("max requests %d: want at least one per worker (%d), or 0 for no limit", c.MaxRequests, c.WorkerCount)
	}
	if c.SLO.TTFT < 0 || c.SLO.TPOT < 0 || c.SLO.E2E < 0 {
		bad("SLO %+v: objectives are not negative", c.SLO)
	}
	if c.WorkerCount < 1 || c.WorkerID < 0 || c.WorkerID >= c.WorkerCount {
		bad("worker %d of %d: want 0 ≤ worker < workers", c.WorkerID, c.WorkerCount)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
}

func (c Config) validateMode() []error {
	switch c.Mode {
	case ModeUsers:
		if c.Users < c.WorkerCount {
			return []error{fmt.Errorf("users %d: want at least one per worker (%d)", c.Users, c.WorkerCount)}
		}
		if c.SpawnRate < 0 {
			return []error{fmt.Errorf("spawn rate %v is negative", c.SpawnRate)}
		}
	case ModeConcurrency:
		if c.Concurrency < c.WorkerCount {
			return []error{fmt.Errorf("concurrency %d: want at least one per worker (%d)", c.Concurrency, c.WorkerCount)}
		}
	case ModeRate:
		if !(c.Rate > 0) {
			return []error{fmt.Errorf("rate %v: want a positive number of requests/s", c.Rate)}
		}
		if c.MaxInflight < 0 {
			return []error{fmt.Errorf("max in flight %d is negative", c.MaxInflight)}
		}
		switch c.Arrival {
		case schedule.KindPoisson, schedule.KindConstant, schedule.KindGamma:
		default:
			return []error{fmt.Errorf("arrival %q: want poisson, gamma or constant", c.Arrival)}
		}
		if c.Burstiness < 0 {
			return []error{fmt.Errorf("burstiness %v is negative", c.Burstiness)}
		}
	default:
		return []error{fmt.Errorf("mode %q: want users, concurrency or rate", c.Mode)}
	}
	return nil
}

// validateStart checks how a closed loop starts: the connections opened ahead and the ramp.
func (c Config) validateStart() []error {
	var errs []error
	if c.ConnectRate < 0 && c.ConnectRate != NoPreconnect || c.ConnectRate != c.ConnectRate {
		errs = append(errs, fmt.Errorf("connect rate %v: want connections per second, or 0 to open none ahead", c.ConnectRate))
	}
	switch {
	case c.StartRamp < 0:
		errs = append(errs, fmt.Errorf("start ramp %v is negative", c.StartRamp))
	case c.StartRamp > 0 && c.Mode == ModeRate:
		errs = append(errs, fmt.Errorf("start ramp %v: the rate mode's schedule decides when requests start; "+
			"a ramp applies to users and concurrency", c.StartRamp))
	case c.StartRamp > 0 && c.Mode == ModeUsers && c.SpawnRate > 0:
		errs = append(errs, fmt.Errorf("start ramp %v and spawn rate %v both say how users start: give one", c.StartRamp, c.SpawnRate))
	}
	return errs
}

// share splits n between the workers: the first n%workers get one more.
func share(n, worker, workers int) int {
	s := n / workers
	if worker < n%workers {
		s++
	}
	return s
}

// level is this worker's share of the load.
func (c Config) level() (users, concurrency int, rate, spawn float64) {
	w := float64(c.WorkerCount)
	return share(c.Users, c.WorkerID, c.WorkerCount), share(c.Concurrency, c.WorkerID, c.WorkerCount),
		c.Rate / w, c.SpawnRate / w
}

// maxRequests is this worker's share of MaxRequests; 0 is no limit.
func (c Config) maxRequests() uint64 {
	if c.MaxRequests <= 0 {
		return 0
	}
	return uint64(share(c.MaxRequests, c.WorkerID, c.WorkerCount))
}

// sendWindow is how long requests are sent: warm-up, measured window and cool-down.
func (c Config) sendWindow() time.Duration { return c.Warmup + c.RunTime + c.Cooldown }

// FromExperiment makes the configuration of one experiment of a plan. The caller sets what a
// plan does not know: WorkerID and WorkerCount when several workers share the load (the
// default is one worker taking all of it), StartAt, and test hooks.
func FromExperiment(e matrix.Experiment, prompts []workload.Prompt, targets []string) Config {
	l, s := e.Load, e.Load.Settings
	c := Config{
		Targets: targets, API: l.API, Model: l.Model, Mode: l.Mode,
		Users: l.Users, SpawnRate: s.SpawnRate, Concurrency: l.Concurrency, Rate: l.Rate,
		Arrival: s.Arrival, Burstiness: s.Burstiness, MaxInflight: s.MaxInflight,
		Warmup: s.Warmup.D(), RunTime: s.RunTime.D(), Cooldown: s.Cooldown.D(), ThinkTime: s.ThinkTime.D(),
		Timeout: s.Timeout.D(), StallTimeout: s.StallTimeout.D(), Grace: graceOf(s.Grace.D()),
		Prompts: prompts, MaxTokens: l.MaxTokens, ExperimentID: e.ID, WorkerCount: 1, Client: s.Client,
		SLO:         SLO{TTFT: l.SLO.TTFT.D(), TPOT: l.SLO.TPOT.D(), E2E: l.SLO.E2E.D()},
		ConnectRate: connectRateOf(s.ConnectRate),
	}
	if l.Mode != ModeRate { // the open loop's schedule decides when its requests start
		c.StartRamp = s.StartRamp.D()
	}
	if s.IgnoreEOS != nil {
		c.IgnoreEOS = *s.IgnoreEOS
	}
	if s.Seed != nil {
		c.Seed = *s.Seed
	}
	return c
}

// connectRateOf keeps a connect rate the matrix gave as 0 (open none ahead): the spec has
// applied its default already.
func connectRateOf(rate float64) float64 {
	if rate == 0 {
		return NoPreconnect
	}
	return rate
}

// graceOf keeps a grace the matrix gave as 0: the spec has applied its default already.
func graceOf(d time.Duration) time.Duration {
	if d == 0 {
		return NoGrace
	}
	return d
}

// endpoint is the request path of the API.
func (c Config) endpoint() string {
	if c.API == APIChat {
		return "/v1/chat/completions"
	}
	return "/v1/completions"
}

// targetURL joins a base URL and the API's path; a base that already ends in /v1 is accepted.
func targetURL(base, path string) string {
	base = strings.TrimRight(base, "/")
	base = strings.TrimSuffix(base, "/v1")
	return base + path
}

// autoClient is the epoll client where it runs: on Linux, over the network (not a test's
// in-memory connections), to plain http:// targets.
func (c Config) autoClient() string {
	if runtime.GOOS != "linux" || c.Dial != nil {
		return ClientNetHTTP
	}
	for _, t := range c.Targets {
		if !strings.HasPrefix(t, "http://") {
			return ClientNetHTTP
		}
	}
	return ClientEpoll
}
