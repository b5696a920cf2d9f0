package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/sim"
)

const simLong = `sim starts the built-in vLLM-like server: an OpenAI-compatible API (/v1/completions,
/v1/chat/completions, /v1/models, /health, /version, /metrics, /reset_prefix_cache) whose
timing comes from a performance model of vLLM's engine on GPUs. It takes vLLM's server flags,
so the argv of "vllm serve" works here too (flags it does not model are ignored with a note).

When it listens it prints one line to stdout:
  llmscale sim listening on http://HOST:PORT
and logs to stderr. SIGTERM or Ctrl-C stops it within a second. docs/simulator.md describes
the model, its profiles and its limits.`

// simFlags are the flags of llmscale sim and where they land in sim.Config.
type simFlags struct {
	cfg              sim.Config
	served, logLevel string
	fixedTTFT        time.Duration
	fixedITL         time.Duration
}

func newSimCmd(env Env) *cobra.Command {
	c := &cobra.Command{
		Use:   "sim [MODEL] [flags]",
		Short: "Start the built-in vLLM-like simulator",
		Long:  simLong,
		// Flags are parsed in runSim so that vLLM's flags the simulator does not model (and
		// vLLM's -tp/-dp spellings) pass through.
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			return runSim(c, env, args)
		},
	}
	return c
}

func (f *simFlags) register(fs *pflag.FlagSet) {
	c := &f.cfg
	fs.StringVar(&c.Host, "host", "127.0.0.1", "address to listen on")
	fs.IntVar(&c.Port, "port", 8000, "port to listen on; 0 picks a free one")
	fs.StringVar(&c.Model, "model", sim.DefaultModel, "model name (what clients send as \"model\")")
	fs.StringVar(&f.served, "served-model-name", "", "served model name; default --model")
	fs.IntVar(&c.TP, "tensor-parallel-size", 1, "GPUs per model replica (tensor parallelism); also -tp")
	fs.IntVar(&c.DP, "data-parallel-size", 1, "model replicas (data parallelism, one engine each); also -dp")
	fs.IntVar(&c.PP, "pipeline-parallel-size", 1, "pipeline stages: checked against the model's layers; the simulator runs 1 only; also -pp")
	fs.IntVar(&c.MaxNumSeqs, "max-num-seqs", 0, "max sequences per step per DP rank; 0 = vLLM's default for the GPU")
	fs.IntVar(&c.MaxNumBatchedTokens, "max-num-batched-tokens", 0, "token budget per step per DP rank; 0 = vLLM's default for the GPU")
	fs.Float64Var(&c.GPUMemoryUtilization, "gpu-memory-utilization", 0.9, "fraction of GPU memory for weights and KV cache")
	fs.IntVar(&c.APIServerCount, "api-server-count", 1, "API server processes (serial front ends)")
	fs.IntVar(&c.MaxModelLen, "max-model-len", 0, "context length; 0 = the model profile's")
	fs.IntVar(&c.BlockSize, "block-size", 16, "KV-cache block size in tokens")
	fs.StringVar(&c.TracesEndpoint, "otlp-traces-endpoint", "", "send one OpenTelemetry span per request, with vLLM's attributes, to this OTLP endpoint "+
		"(protocol from OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: grpc, the default, http/protobuf or http/json)")
	f.registerSimOnly(fs)
	f.registerFaults(fs)
}

func (f *simFlags) registerSimOnly(fs *pflag.FlagSet) {
	c := &f.cfg
	fs.StringVar(&c.GPU, "gpu", "h100-sxm", "GPU profile: "+strings.Join(sim.GPUNames(), ", "))
	fs.StringVar(&c.ModelProfile, "model-profile", "", "model profile: "+strings.Join(sim.ModelNames(), ", ")+
		"; default guessed from --model, else llama-3-8b")
	fs.StringVar(&c.Interconnect, "interconnect", "", "link between the GPUs of a TP group: nvlink, xgmi or pcie; default the GPU's")
	fs.Float64Var(&c.Speedup, "speedup", 1, "simulated time runs this many times faster than real time")
	fs.Int64Var(&c.Seed, "seed", 0, "seed of every random choice (output lengths, faults, ids)")
	fs.IntVar(&c.MeanOutputTokens, "mean-output-tokens", 256, "mean answer length of requests without ignore_eos")
	fs.DurationVar(&f.fixedTTFT, "fixed-ttft", 0, "fixed-cadence mode: time to the first token (e.g. 50ms)")
	fs.DurationVar(&f.fixedITL, "fixed-itl", 0, "fixed-cadence mode: time between tokens (e.g. 10ms)")
	fs.StringVar(&c.RecordChunks, "record-chunks", "", "write when every chunk was really written to FILE on shutdown (.parquet, else JSON lines)")
	fs.DurationVar(&c.Costs.Request, "frontend-request-cost", 0, "API server CPU time per request (default 800µs)")
	fs.DurationVar(&c.Costs.PromptToken, "frontend-prompt-token-cost", 0, "API server CPU time per prompt token (default 1µs)")
	fs.DurationVar(&c.Costs.OutputToken, "frontend-token-cost", 0, "API server CPU time per output token (default 25µs)")
	fs.DurationVar(&c.Costs.Step, "step-cost", 0, "engine CPU time per step (default 1.5ms)")
	fs.DurationVar(&c.Costs.StepSeq, "step-seq-cost", 0, "engine CPU time per running sequence per step (default 10µs)")
	fs.Float64Var(&c.ComputeEfficiency, "compute-efficiency", 0, "achieved fraction of peak FLOP/s (default 0.5)")
	fs.Float64Var(&c.MemoryEfficiency, "memory-efficiency", 0, "achieved fraction of peak memory bandwidth (default 0.75)")
	fs.Float64Var(&c.LinkEfficiency, "link-efficiency", 0, "achieved fraction of peak link bandwidth (default 0.8)")
	fs.StringVar(&c.ErrorFormat, "error-format", "vllm", `error bodies: vllm ({"error": {…}}, current vLLM) or legacy ({"object": "error", …})`)
	fs.StringVar(&f.logLevel, "log-level", "info", "stderr log level: debug, info, warn, error")
}

func (f *simFlags) registerFaults(fs *pflag.FlagSet) {
	ft := &f.cfg.Faults
	fs.Float64Var(&ft.ErrorRate, "fault-error-rate", 0, "fraction of requests answered with --fault-error-status at once")
	fs.IntVar(&ft.ErrorStatus, "fault-error-status", 500, "HTTP status of --fault-error-rate")
	fs.Float64Var(&ft.StallRate, "fault-stall-rate", 0, "fraction of streams that stall once, halfway")
	fs.DurationVar(&ft.StallFor, "fault-stall-for", 10*time.Second, "length of a stall")
	fs.IntVar(&ft.CrashAfterRequests, "fault-crash-after-requests", 0, "exit abruptly when request N+1 arrives")
	fs.DurationVar(&ft.CrashAfter, "fault-crash-after", 0, "exit abruptly this long after starting")
	fs.DurationVar(&ft.SlowStart, "fault-slow-start", 0, "answer 503 on /health (and the API) this long after starting")
	fs.Float64Var(&ft.MalformedRate, "fault-malformed-rate", 0, "fraction of streamed chunks sent as broken JSON")
	fs.Float64Var(&ft.DropRate, "fault-drop-rate", 0, "fraction of streams whose connection is cut halfway")
	fs.Float64Var(&ft.StreamErrorRate, "fault-stream-error-rate", 0, "fraction of streams that send an error event and [DONE] halfway")
	fs.Float64Var(&ft.ResetRate, "fault-reset-rate", 0, "fraction of responses whose TCP connection is reset (RST) halfway")
	fs.Float64Var(&ft.FirstByteStallRate, "fault-first-byte-stall-rate", 0, "fraction of responses that wait --fault-stall-for before their first byte")
}

// vLLM's short spellings, which pflag cannot express (shorthands are one letter).
var vllmShorthands = map[string]string{"-tp": "--tensor-parallel-size", "-dp": "--data-parallel-size",
	"-pp": "--pipeline-parallel-size"}

// normalizeSimArgs rewrites vLLM's -tp/-dp/-pp and drops flags the simulator does not know,
// returning them so they can be reported. A dropped flag takes the next argument as its value
// unless it is written --flag=value, looks boolean, or the next argument is a flag.
func normalizeSimArgs(fs *pflag.FlagSet, args []string) (kept, ignored []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		if long, ok := vllmShorthands[name]; ok {
			a = long
			if hasValue {
				a += "=" + value
			}
			name = long
		}
		if a == "--" || !strings.HasPrefix(name, "--") || name == "--help" {
			kept = append(kept, a)
			continue
		}
		flagName := strings.ReplaceAll(strings.TrimPrefix(name, "--"), "_", "-")
		if fs.Lookup(flagName) != nil {
			kept = append(kept, a)
			continue
		}
		ignored = append(ignored, name)
		if !hasValue && !looksBoolean(flagName) && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
		}
	}
	return kept, ignored
}

// looksBoolean guesses whether an unknown vLLM flag takes no value.
func looksBoolean(name string) bool {
	for _, p := range []string{"enable-", "disable-", "no-", "enforce-", "trust-", "use-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return slices.Contains([]string{"async-scheduling", "headless", "data-parallel-hybrid-lb",
		"data-parallel-external-lb", "kv-cache-metrics", "skip-tokenizer-init", "fully-sharded-loras"}, name)
}

func runSim(c *cobra.Command, env Env, args []string) error {
	var f simFlags
	fs := pflag.NewFlagSet("sim", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
	})
	f.register(fs)
	if slices.Contains(args, "--help") || slices.Contains(args, "-h") {
		fmt.Fprintf(env.Stdout, "%s\n\nUsage:\n  llmscale sim [MODEL] [flags]\n\nFlags:\n%s", simLong, fs.FlagUsages())
		return nil
	}
	kept, ignored := normalizeSimArgs(fs, args)
	if err := fs.Parse(kept); err != nil {
		return usageError(c, "sim: %v", err)
	}
	if err := refuseNonPositive(fs, "tensor-parallel-size", "data-parallel-size", "pipeline-parallel-size",
		"api-server-count", "speedup", "gpu-memory-utilization", "block-size", "mean-output-tokens"); err != nil {
		return usageError(c, "sim: %v", err)
	}
	for _, name := range ignored {
		fmt.Fprintf(env.Stderr, "llmscale sim: ignoring %s (a vLLM flag the simulator does not model)\n", name)
	}
	if err := f.finish(fs); err != nil {
		return usageError(c, "sim: %v", err)
	}
	f.cfg.TracesProtocol = env.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	return serveSim(c, env, f)
}

// finish applies what flags imply: a positional model, the served name, fixed cadence.
func (f *simFlags) finish(fs *pflag.FlagSet) error {
	switch rest := fs.Args(); {
	case len(rest) > 1:
		return fmt.Errorf("unexpected arguments %q (the only positional argument is the model)", rest[1:])
	case len(rest) == 1 && fs.Changed("model"):
		return fmt.Errorf("the model is given twice: %q and --model %q", rest[0], f.cfg.Model)
	case len(rest) == 1:
		f.cfg.Model = rest[0]
	}
	if f.served != "" {
		f.cfg.Model = f.served
	}
	if fs.Changed("fixed-ttft") || fs.Changed("fixed-itl") {
		f.cfg.Cadence = &sim.Cadence{TTFT: f.fixedTTFT, ITL: f.fixedITL}
	}
	f.cfg.Version = Version
	return nil
}

func serveSim(c *cobra.Command, env Env, f simFlags) error {
	logger, err := simLogger(env.Stderr, f.logLevel)
	if err != nil {
		return usageError(c, "sim: %v", err)
	}
	srv, err := sim.New(f.cfg, sim.Options{Logger: logger})
	if err != nil {
		return withHint(withCode(fmt.Errorf("sim: %w", err), ExitUsage), "see `llmscale sim --help` and docs/simulator.md")
	}
	eff := srv.Effective()
	ln, err := net.Listen("tcp", eff.Addr())
	if err != nil {
		return withCode(fmt.Errorf("sim: listen on %s: %w", eff.Addr(), err), ExitFailed)
	}
	fmt.Fprintf(env.Stdout, "llmscale sim listening on http://%s\n", ln.Addr())
	err = srv.Serve(c.Context(), ln)
	switch {
	case errors.Is(err, sim.ErrCrashed):
		return withCode(fmt.Errorf("sim: %w (fault injection)", err), ExitFailed)
	case err != nil:
		return withCode(fmt.Errorf("sim: %w", err), ExitFailed)
	}
	logger.Info("simulator stopped")
	return nil
}

func simLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
