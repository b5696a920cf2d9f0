package spec

import (
	"path/filepath"
	"strings"
	"time"
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

// API kinds.
const (
	APICompletions = "completions"
	APIChat        = "chat"
)

// DefaultSimModel is the served model name of the simulator when the matrix names none.
const DefaultSimModel = "meta-llama/Meta-Llama-3-8B-Instruct"

// DefaultRequire is the validity rule used when gpus is a factor and no rule is given.
const DefaultRequire = "tp * dp * pp == gpus"

// ApplyDefaults fills every setting the matrix (and its overrides) left unset. It is the only
// place defaults live; docs/matrix.md lists them.
func (s *Spec) ApplyDefaults(fileName string) {
	if s.Campaign == "" {
		s.Campaign = strings.TrimSuffix(filepath.Base(fileName), filepath.Ext(fileName))
	}
	s.Engine = or(s.Engine, EngineSim)
	s.API = or(s.API, APICompletions)
	s.Executor = or(s.Executor, "local")
	if s.Engine == EngineSim {
		s.Model = or(s.Model, DefaultSimModel)
	}
	s.Factors.applyDefaults()
	if len(s.Factors.GPUs) > 0 && len(s.Rules.Require) == 0 {
		s.Rules.Require = []string{DefaultRequire}
	}
	if s.Repeats == 0 {
		s.Repeats = 1
	}
	s.Load.applyDefaults()
	s.Server.applyDefaults(s.Engine)
	s.Telemetry.Interval = orDur(s.Telemetry.Interval, time.Second)
	s.Telemetry.GPU = or(s.Telemetry.GPU, "auto")
	s.Slurm.GPUFlag = or(s.Slurm.GPUFlag, "gres")
	if s.Slurm.Nodes == 0 {
		s.Slurm.Nodes = 1
	}
	s.Slurm.Poll = orDur(s.Slurm.Poll, 10*time.Second)
}

func (f *Factors) applyDefaults() {
	f.TP = orList(f.TP, 1)
	f.DP = orList(f.DP, 1)
	f.PP = orList(f.PP, 1)
	if len(f.Users) == 0 && len(f.Concurrency) == 0 && len(f.Rate) == 0 {
		f.Users = []int{10}
	}
	f.Prompts = orList(f.Prompts, "short")
	f.MaxTokens = orList(f.MaxTokens, 128)
	// BatchSize and MBT stay empty: the engine's own default applies and is recorded.
}

func (l *Load) applyDefaults() {
	l.RunTime = orDur(l.RunTime, time.Minute)
	l.Warmup = orDur(l.Warmup, 10*time.Second)
	l.Cooldown = orDur(l.Cooldown, 5*time.Second)
	if l.Seed == nil {
		seed := int64(1)
		l.Seed = &seed
	}
	l.Arrival = or(l.Arrival, "poisson")
	l.Client = or(l.Client, "auto")
	if l.Burstiness == 0 {
		l.Burstiness = 1
	}
	l.Timeout = orDur(l.Timeout, 10*time.Minute)
	l.StallTimeout = orDur(l.StallTimeout, time.Minute)
	l.Grace = orDur(l.Grace, 30*time.Second)
	if l.IgnoreEOS == nil {
		yes := true
		l.IgnoreEOS = &yes
	}
	if l.Workers == 0 {
		l.Workers = 1
	}
}

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

func (s *Server) applyDefaults(engine string) {
	if s.Port == 0 && engine != EngineSim {
		s.Port = 8000 // the simulator takes a free port when none is set
	}
	if s.GPUMemoryUtilization == 0 {
		s.GPUMemoryUtilization = 0.9
	}
	timeout := 20 * time.Minute // loading weights and compiling CUDA graphs
	switch engine {
	case EngineSim:
		timeout = time.Minute
	case EngineExternal: // already running: a server that does not answer soon is down
		timeout = 2 * time.Minute
	}
	s.StartupTimeout = orDur(s.StartupTimeout, timeout)
	s.StartupEstimate = orDur(s.StartupEstimate, startupEstimate(engine))
	s.StopGrace = orDur(s.StopGrace, 30*time.Second)
	s.Sim.GPU = or(s.Sim.GPU, "h100-sxm")
	s.Sim.ModelProfile = or(s.Sim.ModelProfile, "llama-3-8b")
	s.Sim.Interconnect = or(s.Sim.Interconnect, "nvlink")
	if s.Sim.Speedup == 0 {
		s.Sim.Speedup = 1
	}
	if s.Sim.APIServerCount == 0 {
		s.Sim.APIServerCount = 1
	}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orDur(v Duration, def time.Duration) Duration {
	if v == 0 {
		return Duration(def)
	}
	return v
}

func orList[T any](v []T, def T) []T {
	if len(v) == 0 {
		return []T{def}
	}
	return v
}
