package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/host"
	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/otlp"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/spec"
	"github.com/llmscale/llmscale/internal/tokenizer"
	"github.com/llmscale/llmscale/internal/workload"
)

// DefaultHost is the endpoint load drives when neither --host nor VLLM_HOST names one.
const DefaultHost = "http://127.0.0.1:8000"

// loadFlags are llmscale load's flags.
type loadFlags struct {
	hosts                                                   []string
	api, model, prompts, arrival, out, startAt, expID       string
	workerEnv                                               string
	users, concurrency, maxInflight, maxTokens              int
	worker, workers, vocabSize                              int
	spawnRate, rate, burstiness, connectRate                float64
	startRamp                                               time.Duration
	runTime, warmup, cooldown, think, timeout, stall, grace time.Duration
	seed                                                    int64
	ignoreEOS, continuousUsage, quiet, force                bool
	client                                                  string
	tokenizer                                               string // --tokenizer: exact prompt lengths
	sweep, sweepMax                                         int    // --sweep N, --sweep-max-concurrency (sweep.go)
	traces                                                  traceFlags

	config   string    // --config: the load as JSON
	defaults spec.Load // the matrix defaults the flags start from

	vllm       vllmFlags
	aliasModes map[loadspec.Mode]string // load mode → the vLLM flag that chose it
}

// loadPlan is load's resolved configuration.
type loadPlan struct {
	cfg       loadgen.Config
	out       string
	promptSet string
	vllm      vllmSettings
}

func (f *loadFlags) register(fs *pflag.FlagSet, d spec.Load) {
	f.defaults = d
	fs.StringVar(&f.config, "config", "", "the load as JSON, a file or - for stdin (docs/results.md#the-load-of-a-worker): every load setting comes from it, "+
		"keys it leaves out take the built-in defaults (not the environment's); only --out, --force, --quiet, --worker, --worker-env and --traces* may come with it")
	fs.StringSliceVar(&f.hosts, "host", nil, "base URL of the server; several (comma-separated or repeated) share the load, each request going to the least busy (default $VLLM_HOST, else "+DefaultHost+")")
	fs.StringVar(&f.api, "api", "", "completions or chat (default $LLMSCALE_API, else completions)")
	fs.StringVar(&f.model, "model", "", "model name in requests (default $VLLM_MODEL, else the first model of /v1/models)")
	fs.IntVar(&f.users, "users", 0, "closed-loop users, as Locust (default $USERS, else 10)")
	fs.Float64Var(&f.spawnRate, "spawn-rate", 0, "users started per second; 0 starts all at once (default $SPAWN)")
	fs.Float64Var(&f.connectRate, "connect-rate", d.ConnectRate, "users or concurrency: connections opened per second before the start, one per user or slot; 0 opens none ahead (each request connects inside its TTFT)")
	fs.DurationVar(&f.startRamp, "start-ramp", 0, "users without --spawn-rate, or concurrency: spread the first requests over this time; 0 sends them all at once")
	fs.IntVar(&f.concurrency, "concurrency", 0, "requests in flight at all times, instead of users ($LLMSCALE_CONCURRENCY)")
	fs.Float64Var(&f.rate, "rate", 0, "open-loop requests per second, instead of users ($LLMSCALE_RATE)")
	fs.StringVar(&f.arrival, "arrival", d.Arrival, "open-loop arrivals: poisson, gamma or constant")
	fs.Float64Var(&f.burstiness, "burstiness", d.Burstiness, "gamma shape: 1 is Poisson, below 1 burstier")
	fs.IntVar(&f.maxInflight, "max-inflight", 0, "open loop: most requests in flight (requests); 0 = no cap")
	fs.DurationVar(&f.runTime, "run-time", d.RunTime.D(), "measured window ($RUN_TIME)")
	fs.DurationVar(&f.warmup, "warmup", d.Warmup.D(), "warm-up before the window; its requests are recorded and marked ($LLMSCALE_WARMUP)")
	fs.DurationVar(&f.cooldown, "cooldown", d.Cooldown.D(), "cool-down after the window, load still on; requests running when it ends are cancelled ($LLMSCALE_COOLDOWN)")
	fs.DurationVar(&f.think, "think-time", 0, "a user's pause between requests ($LLMSCALE_THINK_TIME)")
	fs.DurationVar(&f.timeout, "timeout", d.Timeout.D(), "longest a request may take")
	fs.DurationVar(&f.stall, "stall-timeout", d.StallTimeout.D(), "longest silence once a response has started")
	fs.DurationVar(&f.grace, "grace", d.Grace.D(), "without a cool-down, requests in flight may finish this long after the window (and after Ctrl-C)")
	fs.StringVar(&f.prompts, "prompts", "", "prompt set: a .txt or .json file, a name N (config/prompts_N.txt) or random:IN:OUT (default $PROMPTS_FILE, else short)")
	fs.IntVar(&f.sweep, "sweep", 0, "find saturation: measure one request at a time, then maximum throughput, then N open-loop rates evenly between, and mark the knee (docs/datasets.md)")
	fs.IntVar(&f.sweepMax, "sweep-max-concurrency", DefaultSweepMaxConcurrency, "--sweep: requests in flight for the maximum-throughput level")
	fs.StringVar(&f.tokenizer, "tokenizer", "", "the model's tokenizer.json (or its folder) or a tiktoken rank file: prompt and dataset reply lengths counted as the model does, instead of ~4 letters a token (docs/datasets.md)")
	fs.IntVar(&f.vocabSize, "vocab-size", 0, "random:IN prompts draw token ids below this (the model's vocabulary size; 0: from [1000, 100000))")
	fs.IntVar(&f.maxTokens, "max-tokens", 0, "output tokens per request, unless the prompt set gives them (default $MAX_TOKENS, else 128)")
	fs.BoolVar(&f.ignoreEOS, "ignore-eos", *d.IgnoreEOS, "ask the server to generate exactly max-tokens")
	fs.BoolVar(&f.continuousUsage, "continuous-usage", false, "ask for usage on every chunk (vLLM): exact tokens per chunk")
	fs.Int64Var(&f.seed, "seed", *d.Seed, "seed of every random choice ($LLMSCALE_SEED)")
	fs.StringVar(&f.out, "out", "", "output folder (default results/load-<timestamp>)")
	fs.StringVar(&f.expID, "exp-id", "", "experiment id written in every record (default the output folder's name)")
	fs.IntVar(&f.worker, "worker", 0, "this worker's index when several share the load (0-based)")
	fs.StringVar(&f.workerEnv, "worker-env", "", "take this worker's index from this environment variable (SLURM_PROCID under srun)")
	fs.IntVar(&f.workers, "workers", 1, "workers sharing the load; each takes its share and writes requests-<worker>.parquet; "+
		"without --worker, load starts them all here as separate processes and prints their combined summary")
	fs.StringVar(&f.startAt, "start-at", "", "agreed start time (RFC 3339) for several workers; default now")
	fs.BoolVar(&f.quiet, "quiet", false, "no live progress")
	fs.BoolVar(&f.force, "force", false, "replace the result already in --out (without it, load refuses to write over one)")
	fs.StringVar(&f.client, "client", d.Client, "how responses are read: epoll (one event loop for every stream, plain http on Linux: exact timing at thousands of streams), "+
		"io_uring (the same loop receiving through io_uring, Linux 6.0+: no system call per read, yet more CPU per token than epoll where measured, docs/performance.md), "+
		"net/http (Go's client, a goroutine per stream; https), or auto (epoll where it runs)")
	f.traces.register(fs)
	f.vllm.register(fs)
}

func newLoadCmd(env Env) *cobra.Command {
	var f loadFlags
	defaults := spec.Spec{}
	defaults.ApplyDefaults("load")
	c := &cobra.Command{
		Use:   "load",
		Short: "Drive load against a running OpenAI-compatible endpoint and record every request",
		Long: `load sends streaming requests to a running OpenAI-compatible server (vLLM, SGLang,
llama.cpp, TGI, …) and times every request and every streamed chunk. Modes: --users
(closed-loop users, as Locust), --concurrency (requests in flight), --rate (open loop, on a
Poisson, gamma or constant schedule kept whatever the server does).

It writes requests.parquet (one row per request; docs/results.md), summary.json and load.json
into --out, shows live progress on stderr, and prints the summary with vLLM's metric names on
stdout. Ctrl-C stops sending, lets requests in flight finish within --grace, and writes the
files; a second Ctrl-C exits at once.

Settings come from flags, then the environment (VLLM_HOST, VLLM_MODEL, USERS, SPAWN,
RUN_TIME, PROMPTS_FILE, MAX_TOKENS, OPENAI_API_KEY or VLLM_API_KEY, LLMSCALE_*), then .env.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := newSettings(env)
			if err != nil {
				return err
			}
			return runLoad(c.Context(), env, s, c.Flags(), f)
		},
	}
	f.register(c.Flags(), defaults.Load)
	return c
}

func runLoad(ctx context.Context, env Env, s settings, fs *pflag.FlagSet, f loadFlags) error {
	rcv, err := startLoadTraces(env, f.traces, f.workers)
	if err != nil {
		return err
	}
	if rcv != nil {
		defer rcv.Close()
	}
	if f.sweep != 0 && f.config == "" {
		if f.sweep < 0 {
			return withCode(fmt.Errorf("--sweep %d: want the number of rates between the synchronous and the maximum level", f.sweep), ExitUsage)
		}
		return runSweep(ctx, env, s, fs, f)
	}
	plan, err := loadConfig(ctx, env, s, fs, f)
	if err != nil {
		return err
	}
	if plan.cfg.WorkerCount > 1 && !fs.Changed("worker") && f.workerEnv == "" {
		if rcv != nil {
			return tracesWorkersError()
		}
		return runLoadWorkers(ctx, env, plan)
	}
	return runOneLoad(ctx, env, f, plan, rcv)
}

// runOneLoad runs the load of this process: the only worker, or one of several.
func runOneLoad(ctx context.Context, env Env, f loadFlags, plan loadPlan, rcv *otlp.Receiver) error {
	cfg, out := plan.cfg, plan.out
	sink, err := loadgen.NewParquetSink(out, cfg.WorkerID, cfg.WorkerCount)
	if err != nil {
		return withCode(err, ExitFailed)
	}
	r, err := loadgen.New(cfg, sink)
	if err != nil {
		sink.Abort()
		return withHint(withCode(err, ExitUsage), "see `llmscale load --help`")
	}
	if err := results.WriteJSON(filepath.Join(out, workerFile("load", cfg)), loadRecord(cfg, plan.promptSet)); err != nil {
		sink.Abort()
		return withCode(err, ExitFailed)
	}
	raiseOpenFiles(env)
	stop := startProgress(env, r, f.quiet)
	sum, runErr := r.Run(ctx)
	stop()
	if err := sum.WriteText(env.Stdout); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "llmscale: wrote %s\n", sink.Path())
	if err := results.WriteJSON(filepath.Join(out, loadgen.SummaryFile(cfg.WorkerID, cfg.WorkerCount)), sum.JSON()); err != nil {
		return withCode(err, ExitFailed)
	}
	if cfg.WorkerCount == 1 {
		if err := writeVLLMResults(env, plan, sum, []string{sink.Path()}); err != nil {
			return err
		}
	}
	if err := writeLoadSpans(ctx, env, rcv, cfg.ExperimentID, out); err != nil {
		return err
	}
	if sum.MostFailedOnClient() {
		return clientFailed(sum)
	}
	return loadError(ctx, runErr, cfg, sum.FirstErrors)
}

// raiseOpenFiles lifts the soft open-file limit to the hard one and says so on stderr, or
// says why it could not.
func raiseOpenFiles(env Env) {
	before, after, err := loadgen.RaiseOpenFilesLimit()
	switch {
	case err != nil:
		fmt.Fprintf(env.Stderr, "llmscale: could not raise the open-file limit (ulimit -n %d): %v\n", before, err)
	case after > before:
		fmt.Fprintf(env.Stderr, "llmscale: raised the open-file limit (ulimit -n) from %d to %d\n", before, after)
	}
}

// clientFailed is the error of a run where most requests failed on the client's own limits:
// the files are written, but they measured the client, not the server.
func clientFailed(sum loadgen.Summary) error {
	err := fmt.Errorf("%d of %d requests failed on the client's own limits (failure kind %q), not the server's: "+
		"the run measured the client", sum.ClientFailures, sum.Sent, results.ErrorClient)
	hint := strings.Join(sum.Limits, "; ")
	if hint == "" {
		hint = fmt.Sprintf("open-file limit %d; see the summary's client_limits", sum.OpenFilesLimit)
	}
	return withHint(withCode(err, ExitFailed), "%s", hint)
}

func workerFile(name string, cfg loadgen.Config) string {
	if cfg.WorkerCount > 1 {
		return fmt.Sprintf("%s-%d.json", name, cfg.WorkerID)
	}
	return name + ".json"
}

func loadError(ctx context.Context, err error, cfg loadgen.Config, firstErrors []string) error {
	switch {
	case ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)):
		// The files are written (empty when it came before the start); the exit code says it
		// was cut short.
		return withCode(errors.New("interrupted: the files hold what was measured until then"), ExitInterrupted)
	case errors.Is(err, loadgen.ErrAllFailed):
		return withHint(withCode(err, ExitFailed), "%s", loadgen.FailureHint(firstErrors, cfg.Targets, cfg.Model, cfg.API))
	case err != nil:
		return withCode(err, ExitFailed)
	}
	return nil
}

// loadConfig resolves the configuration: flags > environment > .env > defaults.
func loadConfig(ctx context.Context, env Env, s settings, fs *pflag.FlagSet, f loadFlags) (p loadPlan, err error) {
	if err := f.workerFromEnv(env); err != nil {
		return p, err
	}
	if f.config != "" {
		p.cfg.Load, err = f.configLoad(env, fs)
	} else {
		p.cfg.Load, p.vllm, err = f.flagLoad(s, fs)
	}
	if err != nil {
		return p, err
	}
	cfg := &p.cfg
	cfg.APIKey = firstSet(s, "OPENAI_API_KEY", "VLLM_API_KEY")
	cfg.WorkerID, cfg.Host, p.promptSet = f.worker, host.Reader{}, cfg.PromptSet
	if cfg.Prompts, err = loadPrompts(env, *cfg); err != nil {
		return p, err
	}
	if cfg.Model == "" {
		if cfg.Model, err = discoverModel(ctx, cfg.Targets[0], cfg.APIKey); err != nil {
			return p, modelHint(err, cfg.Targets[0])
		}
	}
	if p.out = f.out; p.out == "" {
		p.out = filepath.Join("results", "load-"+env.now().Format("20060102-150405"))
	}
	p.out = env.path(p.out)
	if err := claimOut(p.out, f, cfg.WorkerCount, fs.Changed("worker") || f.workerEnv != ""); err != nil {
		return p, err
	}
	if cfg.ExperimentID == "" {
		cfg.ExperimentID = filepath.Base(p.out)
	}
	return p, nil
}

// firstSet is the first of the variables the environment (or .env) sets.
func firstSet(s settings, vars ...string) string {
	for _, v := range vars {
		if x := strings.TrimSpace(s.lookup(v)); x != "" {
			return x
		}
	}
	return ""
}

// flagLoad builds the load from the flags, then the environment, then .env, then defaults.
func (f loadFlags) flagLoad(s settings, fs *pflag.FlagSet) (l loadspec.Load, v vllmSettings, err error) {
	if err := f.fromEnv(s, fs); err != nil {
		return l, v, err
	}
	if v, err = f.vllm.apply(fs, &f, s); err != nil {
		return l, v, err
	}
	str := func(flag, value string, vars ...string) string {
		if fs.Changed(flag) {
			return value
		}
		if x := firstSet(s, vars...); x != "" {
			return x
		}
		return value
	}
	l = loadspec.Load{
		API: loadspec.API(str("api", f.api, "LLMSCALE_API")), Model: str("model", f.model, "VLLM_MODEL"),
		SpawnRate: f.spawnRate, Arrival: f.arrival, Burstiness: f.burstiness, MaxInflight: f.maxInflight,
		Warmup: f.warmup, RunTime: f.runTime, Cooldown: f.cooldown, ThinkTime: f.think, Timeout: f.timeout,
		StallTimeout: f.stall, Grace: f.grace, MaxTokens: f.maxTokens, IgnoreEOS: f.ignoreEOS,
		ContinuousUsage: f.continuousUsage, Seed: f.seed, WorkerCount: f.workers,
		Targets: targets(f.hosts, s.lookup("VLLM_HOST")), Client: f.client, ExperimentID: f.expID,
		PromptSet: str("prompts", f.prompts, "PROMPTS_FILE"), VocabSize: f.vocabSize, Tokenizer: f.tokenizer,
		MaxRequests: v.numPrompts, SLO: v.slo, ConnectRate: f.connectRate, StartRamp: f.startRamp,
	}
	if l.ConnectRate == 0 {
		l.ConnectRate = loadgen.NoPreconnect // --connect-rate 0 opens none; loadgen reads a zero as its default
	}
	if l.API == "" {
		l.API = loadspec.APICompletions
	}
	if l.PromptSet == "" {
		l.PromptSet = "short"
	}
	if l.MaxTokens == 0 { // not given: strict has refused a given 0
		l.MaxTokens = loadgen.DefaultMaxTokens
	}
	if err := loadMode(&l, fs, f); err != nil {
		return l, v, err
	}
	return l, v, startTime(&l, f.startAt)
}

// fromEnv fills the numeric settings no flag set from the environment (or .env).
func (f *loadFlags) fromEnv(s settings, fs *pflag.FlagSet) error {
	var errs []error
	num := func(flag string, dst any, name string) {
		x := strings.TrimSpace(s.lookup(name))
		if fs.Changed(flag) || x == "" {
			return
		}
		if err := setNumber(dst, x); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, x, err))
		}
	}
	num("users", &f.users, "USERS")
	num("spawn-rate", &f.spawnRate, "SPAWN")
	num("concurrency", &f.concurrency, "LLMSCALE_CONCURRENCY")
	num("rate", &f.rate, "LLMSCALE_RATE")
	num("run-time", &f.runTime, "RUN_TIME")
	num("warmup", &f.warmup, "LLMSCALE_WARMUP")
	num("cooldown", &f.cooldown, "LLMSCALE_COOLDOWN")
	num("think-time", &f.think, "LLMSCALE_THINK_TIME")
	num("max-tokens", &f.maxTokens, "MAX_TOKENS")
	num("seed", &f.seed, "LLMSCALE_SEED")
	if err := errors.Join(errs...); err != nil {
		return withHint(withCode(err, ExitUsage), "environment variables hold one value each for load")
	}
	return f.strict(s, fs)
}

// strict refuses a 0 where it cannot mean anything (users, tokens, a measured window, a
// timeout) and two load modes from the environment, naming where each value came from;
// flags that pick a mode replace the environment's, as flags replace it everywhere.
func (f *loadFlags) strict(s settings, fs *pflag.FlagSet) error {
	vars := map[string]string{"users": "USERS", "concurrency": "LLMSCALE_CONCURRENCY", "rate": "LLMSCALE_RATE",
		"run-time": "RUN_TIME", "max-tokens": "MAX_TOKENS"}
	var bad []string
	values := map[string]float64{"users": float64(f.users), "concurrency": float64(f.concurrency), "rate": f.rate,
		"run-time": float64(f.runTime), "max-tokens": float64(f.maxTokens), "timeout": float64(f.timeout),
		"stall-timeout": float64(f.stall), "workers": float64(f.workers), "burstiness": f.burstiness}
	for _, name := range []string{"users", "concurrency", "rate", "run-time", "max-tokens", "timeout", "stall-timeout", "workers", "burstiness"} {
		from, text := "", ""
		switch {
		case fs.Changed(name):
			from, text = "--"+name, fs.Lookup(name).Value.String()
		case vars[name] != "" && strings.TrimSpace(s.lookup(vars[name])) != "":
			from, text = vars[name], strings.TrimSpace(s.lookup(vars[name]))
		}
		if from != "" && values[name] <= 0 {
			bad = append(bad, from+" "+text)
		}
	}
	if len(bad) > 0 {
		return withHint(withCode(fmt.Errorf("%s: must be above 0", strings.Join(bad, ", ")), ExitUsage),
			"leave a setting out for its default; see `llmscale load --help`")
	}
	if fs.Changed("users") || fs.Changed("concurrency") || fs.Changed("rate") {
		return nil
	}
	var modes []string
	for _, name := range []string{"USERS", "LLMSCALE_CONCURRENCY", "LLMSCALE_RATE"} {
		if strings.TrimSpace(s.lookup(name)) != "" {
			modes = append(modes, name)
		}
	}
	if len(modes) > 1 {
		return withHint(withCode(fmt.Errorf("%s and %s (environment or .env) both set the load mode", modes[0], modes[1]), ExitUsage),
			"keep one, or pick the mode with --users, --concurrency or --rate")
	}
	return nil
}

// workerFromEnv takes the worker's index from --worker-env's variable (SLURM_PROCID in the
// tasks of one srun).
func (f *loadFlags) workerFromEnv(env Env) error {
	if f.workerEnv == "" {
		return nil
	}
	v := strings.TrimSpace(env.Getenv(f.workerEnv))
	k, err := strconv.Atoi(v)
	if err != nil {
		return withHint(withCode(fmt.Errorf("--worker-env %s: %q is not a worker index", f.workerEnv, v), ExitUsage),
			"srun sets SLURM_PROCID for each of its tasks")
	}
	f.worker = k
	return nil
}

// setNumber parses x into an int, int64, float64 or time.Duration.
func setNumber(dst any, x string) error {
	var err error
	switch p := dst.(type) {
	case *int:
		*p, err = strconv.Atoi(x)
	case *int64:
		*p, err = strconv.ParseInt(x, 10, 64)
	case *float64:
		*p, err = strconv.ParseFloat(x, 64)
	case *time.Duration:
		*p, err = time.ParseDuration(x)
	}
	return err
}

func targets(flags []string, env string) []string {
	list := flags
	if len(list) == 0 && env != "" {
		list = strings.Split(env, ",")
	}
	var out []string
	for _, t := range list {
		if t = strings.TrimSpace(t); t != "" {
			if !strings.Contains(t, "://") {
				t = "http://" + t
			}
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		out = []string{DefaultHost}
	}
	return out
}

// loadMode picks the mode: the one flag given, else the one environment variable, else users.
func loadMode(cfg *loadspec.Load, fs *pflag.FlagSet, f loadFlags) error {
	var set []string
	given := map[loadspec.Mode]bool{}
	for _, m := range loadspec.Modes() {
		switch {
		case fs.Changed(string(m)):
			set, given[m] = append(set, "--"+string(m)), true
		case f.aliasModes[m] != "":
			set, given[m] = append(set, f.aliasModes[m]), true
		}
	}
	if len(set) > 1 {
		return withHint(withCode(fmt.Errorf("%s: give one load mode", strings.Join(set, " and ")), ExitUsage),
			"--users for closed-loop users, --concurrency for requests in flight, --rate for an open loop")
	}
	switch {
	case given[loadspec.ModeRate] || len(set) == 0 && f.rate > 0:
		cfg.Mode, cfg.Rate = loadspec.ModeRate, f.rate
	case given[loadspec.ModeConcurrency] || len(set) == 0 && f.concurrency > 0:
		cfg.Mode, cfg.Concurrency = loadspec.ModeConcurrency, f.concurrency
	default:
		cfg.Mode, cfg.Users = loadspec.ModeUsers, f.users
		if cfg.Users == 0 { // not given: strict has refused a given 0
			cfg.Users = 10
		}
	}
	return nil
}

func startTime(cfg *loadspec.Load, at string) error {
	if at == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return withHint(withCode(fmt.Errorf("--start-at %q: %w", at, err), ExitUsage), "write it like 2026-01-02T15:04:05Z")
	}
	cfg.StartAt = t
	return nil
}

// loadPrompts resolves the load's prompt set (cfg.PromptSet, with its VocabSize and
// Tokenizer) as the matrix does: a bare name N is config/prompts_N.txt under the working
// directory; files are relative to it.
func loadPrompts(env Env, cfg loadgen.Config) ([]workload.Prompt, error) {
	level, vocabSize, tokenizerPath := cfg.PromptSet, cfg.VocabSize, cfg.Tokenizer
	if vocabSize < 0 || vocabSize == 1 {
		return nil, withCode(fmt.Errorf("--vocab-size %d is not a vocabulary size", vocabSize), ExitUsage)
	}
	dir := env.Dir
	ext := strings.ToLower(filepath.Ext(level))
	if !workload.IsDataset(level) && ext != ".txt" && ext != ".json" && !strings.ContainsRune(level, filepath.Separator) {
		dir = filepath.Join(env.Dir, "config")
	}
	src, err := workload.Resolve(level, nil, dir)
	if err != nil {
		return nil, withHint(withCode(fmt.Errorf("--prompts: %w", err), ExitUsage),
			"give a prompt file, a name N for config/prompts_N.txt, random:IN:OUT, or a dataset (docs/datasets.md)")
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x70726f6d7074))
	opts := workload.Options{TextOnly: cfg.API == loadspec.APIChat, VocabSize: vocabSize}
	if tokenizerPath != "" {
		tok, err := tokenizer.Load(env.path(tokenizerPath))
		if err != nil {
			return nil, withHint(withCode(fmt.Errorf("--tokenizer: %w", err), ExitUsage),
				"give a Hugging Face tokenizer.json with a BPE, Unigram or WordPiece model, or a tiktoken rank file named like its encoding (cl100k_base.tiktoken)")
		}
		if vocabSize > 0 && vocabSize != tok.VocabSize() {
			return nil, withCode(fmt.Errorf("--vocab-size %d and --tokenizer %s (a vocabulary of %d) disagree", vocabSize,
				tokenizerPath, tok.VocabSize()), ExitUsage)
		}
		opts.Tokenizer, opts.VocabSize = tok, tok.VocabSize()
	}
	prompts, err := workload.Load(src, rng, opts)
	if err != nil {
		return nil, withCode(err, ExitUsage)
	}
	return prompts, nil
}

// modelHint says what to do when the server could not be asked for its model: a server that
// cannot be reached needs starting (or another --host), which --model would not fix.
func modelHint(err error, target string) error {
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.As(err, &netErr) {
		return withHint(withCode(err, ExitFailed), "nothing answers at %s: start the server there, or give its address with --host (or VLLM_HOST)", target)
	}
	return withHint(withCode(err, ExitUsage), "pass --model or set VLLM_MODEL")
}

// discoverModel asks the server which model it serves.
func discoverModel(ctx context.Context, base, key string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url := strings.TrimSuffix(strings.TrimRight(base, "/"), "/v1") + "/v1/models"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	client := &http.Client{}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("no model given, and asking the server failed: %w", err)
	}
	defer resp.Body.Close()
	var doc struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("no model given, and GET %s answered %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || len(doc.Data) == 0 || doc.Data[0].ID == "" {
		return "", fmt.Errorf("no model given, and GET %s lists none", url)
	}
	return doc.Data[0].ID, nil
}

// loadRecord is load.json: what was run, for provenance.
func loadRecord(c loadgen.Config, promptSet string) results.LoadRecord {
	return results.LoadRecord{PromptSet: promptSet, ExperimentID: c.ExperimentID, Targets: c.Targets, API: c.API,
		Model: c.Model, Mode: c.Mode, Users: c.Users, SpawnRate: c.SpawnRate, Concurrency: c.Concurrency, Rate: c.Rate,
		Arrival: c.Arrival, Burstiness: c.Burstiness, MaxInflight: c.MaxInflight, ConnectRate: max(c.ConnectRate, 0),
		StartRampS: c.StartRamp.Seconds(), WarmupS: c.Warmup.Seconds(),
		RunTimeS: c.RunTime.Seconds(), CooldownS: c.Cooldown.Seconds(), ThinkTimeS: c.ThinkTime.Seconds(),
		TimeoutS: c.Timeout.Seconds(), StallTimeoutS: c.StallTimeout.Seconds(), GraceS: c.Grace.Seconds(),
		Prompts: len(c.Prompts), MaxTokens: c.MaxTokens, IgnoreEOS: c.IgnoreEOS, ContinuousUsage: c.ContinuousUsage,
		Client: c.Client, Seed: c.Seed, WorkerID: c.WorkerID, Workers: c.WorkerCount, Version: Version}
}
