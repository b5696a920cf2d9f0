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
	"net"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/host"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/schedule"
	"github.com/llmscale/llmscale/internal/workload"
)

// Clients: how responses are read.
const (
	ClientAuto    = "auto"     // the epoll event loop where it can run (Linux, plain http://), else net/http; the default
	ClientNetHTTP = "net/http" // Go's net/http: a goroutine per response; TLS
	ClientEpoll   = "epoll"    // one event loop reads every response (plain http://, Linux): exact at thousands of streams
	ClientIOURing = "io_uring" // the same event loop, receiving through io_uring (Linux 6.0 or later): no system call per read, but more CPU per token than epoll where measured
)

// Defaults applied to zero fields.
const (
	DefaultTimeout      = 10 * time.Minute
	DefaultStallTimeout = time.Minute
	DefaultMaxTokens    = 128
)

// Config is one load run: the load as specified (loadspec.Load) and what only this process
// knows. Fields left zero take the defaults above (a zero Grace is no grace: requests in
// flight when sending stops are cancelled at once); Validate reports the rest.
type Config struct {
	loadspec.Load

	APIKey  string            // sent as "Authorization: Bearer"; never written to a file
	Prompts []workload.Prompt // the prompts of Load.PromptSet, loaded
	// WorkerID is this worker's index (0-based) among Load.WorkerCount; 0 means one worker.
	WorkerID int

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

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("invalid load configuration")

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	if c.API == "" {
		c.API = loadspec.APICompletions
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
	case ClientEpoll, ClientIOURing:
		for _, t := range c.Targets {
			if strings.HasPrefix(t, "https:") {
				bad("target %q: the %s client speaks plain HTTP; use the net/http client for https", t, c.Client)
			}
		}
	default:
		bad("client %q: want %s, %s, %s or %s", c.Client, ClientAuto, ClientNetHTTP, ClientEpoll, ClientIOURing)
	}
	if !c.API.Valid() {
		bad("api %q: want %s or %s", c.API, loadspec.APICompletions, loadspec.APIChat)
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
		if c.API == loadspec.APIChat && p.Text == "" {
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
	case loadspec.ModeUsers:
		if c.Users < c.WorkerCount {
			return []error{fmt.Errorf("users %d: want at least one per worker (%d)", c.Users, c.WorkerCount)}
		}
		if c.SpawnRate < 0 {
			return []error{fmt.Errorf("spawn rate %v is negative", c.SpawnRate)}
		}
	case loadspec.ModeConcurrency:
		if c.Concurrency < c.WorkerCount {
			return []error{fmt.Errorf("concurrency %d: want at least one per worker (%d)", c.Concurrency, c.WorkerCount)}
		}
	case loadspec.ModeRate:
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
	case c.StartRamp > 0 && c.Mode == loadspec.ModeRate:
		errs = append(errs, fmt.Errorf("start ramp %v: the rate mode's schedule decides when requests start; "+
			"a ramp applies to users and concurrency", c.StartRamp))
	case c.StartRamp > 0 && c.Mode == loadspec.ModeUsers && c.SpawnRate > 0:
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

// endpoint is the request path of the API.
func (c Config) endpoint() string { return c.API.Path() }

// targetURL joins a base URL and the API's path; a base that already ends in /v1 is accepted.
func targetURL(base, path string) string {
	base = strings.TrimRight(base, "/")
	base = strings.TrimSuffix(base, "/v1")
	return base + path
}

// autoClient is the event loop where it runs: on Linux, over the network (not a test's
// in-memory connections), to plain http:// targets; net/http elsewhere.
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
