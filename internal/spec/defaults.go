package spec

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
)

// Engine names.
const (
	EngineVLLM     = "vllm"
	EngineSGLang   = "sglang"
	EngineLlamaCpp = "llamacpp"
	EngineCommand  = "command"
	EngineExternal = "external"
	EngineSim      = "sim"
)

// DefaultSimModel is the served model name of the simulator when the matrix names none.
const DefaultSimModel = "meta-llama/Meta-Llama-3-8B-Instruct"

// DefaultMaxExperiments is the largest plan accepted unless max_experiments (or
// --max-experiments) allows more: a typo such as users: [1..10000] should not run for days.
const DefaultMaxExperiments = 10000

// DefaultRequire is the validity rule used when gpus is a factor and no rule is given.
const DefaultRequire = "tp * dp * pp == gpus"

// ApplyDefaults fills every setting the matrix (and its overrides) left unset. It is the only
// place defaults live; docs/matrix.md lists them. A Spec built in code has no record of what
// was given, so every zero takes its default; Parse uses applyDefaults with the file's keys.
func (s *Spec) ApplyDefaults(fileName string) {
	s.applyDefaults(fileName, func(string) bool { return false })
}

// applyDefaults fills what was not given: given tells whether the file or an override set a
// YAML path. A value given as 0 stays 0: it is honoured where it means something (no warm-up,
// no cool-down, no grace) and refused by Validate where it cannot (run_time, timeouts, counts).
func (s *Spec) applyDefaults(fileName string, given func(path string) bool) {
	d := defaulter{given: given}
	if s.Campaign == "" {
		s.Campaign = strings.TrimSuffix(filepath.Base(fileName), filepath.Ext(fileName))
	}
	s.Engine = or(s.Engine, EngineSim)
	s.API = or(s.API, loadspec.APICompletions)
	s.Executor = or(s.Executor, "local")
	if s.Engine == EngineSim {
		s.Model = or(s.Model, DefaultSimModel)
	}
	s.Factors.applyDefaults()
	if len(s.Factors.GPUs) > 0 && len(s.Rules.Require) == 0 {
		s.Rules.Require = []string{DefaultRequire}
	}
	d.int("$.repeats", &s.Repeats, 1)
	d.int("$.max_experiments", &s.MaxExperiments, DefaultMaxExperiments)
	s.Load.applyDefaults(d)
	s.Server.applyDefaults(d, s.Engine)
	d.dur("$.telemetry.interval", &s.Telemetry.Interval, time.Second)
	s.Telemetry.GPU = or(s.Telemetry.GPU, "auto")
	s.Slurm.GPUFlag = or(s.Slurm.GPUFlag, "gres")
	d.int("$.slurm.nodes", &s.Slurm.Nodes, 1)
	d.dur("$.slurm.poll", &s.Slurm.Poll, 10*time.Second)
}

// defaulter sets a zero value to its default only when the value was not given.
type defaulter struct{ given func(path string) bool }

func (d defaulter) dur(path string, v *Duration, def time.Duration) {
	if *v == 0 && !d.given(path) {
		*v = Duration(def)
	}
}

func (d defaulter) int(path string, v *int, def int) {
	if *v == 0 && !d.given(path) {
		*v = def
	}
}

func (d defaulter) float(path string, v *float64, def float64) {
	if *v == 0 && !d.given(path) {
		*v = def
	}
}

func (f *Factors) applyDefaults() {
	f.TP = orList(f.TP, 1)
	f.DP = orList(f.DP, 1)
	f.PP = orList(f.PP, 1)
	if len(f.Users) == 0 && len(f.Concurrency) == 0 && len(f.Rate) == 0 && len(f.Sweep) == 0 {
		f.Users = []int{10}
	}
	f.Prompts = orList(f.Prompts, "short")
	f.MaxTokens = orList(f.MaxTokens, 128)
	// BatchSize and MBT stay empty: the engine's own default applies and is recorded.
}

func (l *Load) applyDefaults(d defaulter) {
	d.dur("$.load.run_time", &l.RunTime, time.Minute)
	d.dur("$.load.warmup", &l.Warmup, 10*time.Second)
	d.dur("$.load.cooldown", &l.Cooldown, 5*time.Second)
	if l.Seed == nil {
		seed := int64(1)
		l.Seed = &seed
	}
	l.Arrival = or(l.Arrival, "poisson")
	l.Client = or(l.Client, "auto")
	d.float("$.load.burstiness", &l.Burstiness, 1)
	d.float("$.load.connect_rate", &l.ConnectRate, 2000) // loadgen.DefaultConnectRate
	d.dur("$.load.timeout", &l.Timeout, 10*time.Minute)
	d.dur("$.load.stall_timeout", &l.StallTimeout, time.Minute)
	d.dur("$.load.grace", &l.Grace, 30*time.Second)
	if l.IgnoreEOS == nil {
		yes := true
		l.IgnoreEOS = &yes
	}
	d.int("$.load.workers", &l.Workers, 1)
	d.int("$.load.sweep_max_concurrency", &l.SweepMaxConcurrency, DefaultSweepMaxConcurrency)
}

// DefaultSweepMaxConcurrency is the requests in flight of a sweep's maximum-throughput point
// when load.sweep_max_concurrency is not given.
const DefaultSweepMaxConcurrency = 256

// startupEstimates are typical times from launch to healthy, for plan's estimate only.
func startupEstimate(engine string) time.Duration {
	switch engine {
	case EngineVLLM, EngineSGLang:
		return 3 * time.Minute
	case EngineLlamaCpp, EngineCommand:
		return time.Minute
	case EngineSim:
		return time.Second
	}
	return 0
}

func (s *Server) applyDefaults(d defaulter, engine string) {
	if engine != EngineSim {
		d.int("$.server.port", &s.Port, 8000) // the simulator takes a free port when none is set
	}
	d.float("$.server.gpu_memory_utilization", &s.GPUMemoryUtilization, 0.9)
	timeout := 20 * time.Minute // loading weights and compiling CUDA graphs
	switch engine {
	case EngineSim:
		timeout = time.Minute
	case EngineExternal: // already running: a server that does not answer soon is down
		timeout = 2 * time.Minute
	}
	d.dur("$.server.startup_timeout", &s.StartupTimeout, timeout)
	d.dur("$.server.startup_estimate", &s.StartupEstimate, startupEstimate(engine))
	d.dur("$.server.stop_grace", &s.StopGrace, 30*time.Second)
	s.Sim.GPU = or(s.Sim.GPU, "h100-sxm")
	s.Sim.ModelProfile = or(s.Sim.ModelProfile, "llama-3-8b")
	s.Sim.Interconnect = or(s.Sim.Interconnect, "nvlink")
	d.float("$.server.sim.speedup", &s.Sim.Speedup, 1)
	d.int("$.server.sim.api_server_count", &s.Sim.APIServerCount, 1)
}

func or[T ~string](v, def T) T {
	if v == "" {
		return def
	}
	return v
}

func orList[T any](v []T, def T) []T {
	if len(v) == 0 {
		return []T{def}
	}
	return v
}
