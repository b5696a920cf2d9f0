// Package spec holds the experiment matrix file: its types, strict decoding with positions,
// layered overrides (environment, .env, flags), defaults and validation. It does no expansion;
// that is package matrix.
package spec

import (
	"path/filepath"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
)

// Spec is one experiment matrix file (config/experiment_matrix.yaml).
type Spec struct {
	Campaign string `yaml:"campaign"`
	Engine   string `yaml:"engine"` // vllm | sglang | llamacpp | command | external | sim
	Model    string `yaml:"model"`  // served model name
	// Tokenizer is the model's tokenizer.json (or its folder) or a tiktoken rank file: text
	// prompt lengths, exact-length synthetic text prompts and dataset reply lengths are counted
	// with it (llmscale load --tokenizer); unset, ~4 letters a token. Relative to Dir.
	Tokenizer  string            `yaml:"tokenizer"`
	API        loadspec.API      `yaml:"api"`      // completions | chat
	Host       string            `yaml:"host"`     // base URL of an external endpoint (VLLM_HOST)
	Executor   string            `yaml:"executor"` // local | slurm
	Factors    Factors           `yaml:"factors"`
	Rules      Rules             `yaml:"rules"`
	PromptSets map[string]string `yaml:"prompt_sets"` // name → file (.txt, .json) or random:IN:OUT
	Load       Load              `yaml:"load"`
	Repeats    int               `yaml:"repeats"`
	// MaxExperiments caps the plan: a matrix whose combinations times repeats exceed it is
	// refused before it is expanded (default DefaultMaxExperiments).
	MaxExperiments int       `yaml:"max_experiments"`
	SLO            SLO       `yaml:"slo"`
	Server         Server    `yaml:"server"`
	Telemetry      Telemetry `yaml:"telemetry"`
	Slurm          Slurm     `yaml:"slurm"`

	// Dir is the folder relative paths in the file are resolved against (the file's own folder).
	Dir string `yaml:"-"`
}

// TokenizerPath is the tokenizer file as the run opens it (relative paths start from Dir), or
// "" when the matrix names none.
func (s *Spec) TokenizerPath() string {
	if s.Tokenizer == "" || filepath.IsAbs(s.Tokenizer) {
		return s.Tokenizer
	}
	return filepath.Join(s.Dir, s.Tokenizer)
}

// Factors are the matrix's dimensions; every combination of their levels is a candidate
// experiment. Exactly one of Users, Concurrency, Rate and Sweep sets the load.
type Factors struct {
	GPUs        []int     `yaml:"gpus"`
	TP          []int     `yaml:"tp"`
	DP          []int     `yaml:"dp"`
	PP          []int     `yaml:"pp"`
	Users       []int     `yaml:"users"`       // closed-loop users (Locust)
	Concurrency []int     `yaml:"concurrency"` // fixed in-flight requests
	Rate        []float64 `yaml:"rate"`        // open-loop requests/s
	// Sweep finds saturation itself (GuideLLM's sweep): a level N measures one request at a
	// time, then the maximum throughput, then N open-loop rates evenly between, and marks the knee.
	Sweep     []int    `yaml:"sweep"`
	Prompts   []string `yaml:"prompts"` // prompt set names, files or random:IN:OUT
	MaxTokens []int    `yaml:"max_tokens"`
	BatchSize []int    `yaml:"batch_size"` // --max-num-seqs, per DP rank
	MBT       []int    `yaml:"mbt"`        // --max-num-batched-tokens, per DP rank

	// ServerArgs are extra server flags with levels ("--gpu-memory-utilization": [0.85, 0.9]);
	// "true" passes the flag alone, "false" omits it. Each level is part of the server configuration.
	ServerArgs map[string][]Level `yaml:"server_args"`
	// ServerEnv are environment variables of the server with levels.
	ServerEnv map[string][]Level `yaml:"server_env"`
	// Load are load settings with levels, named as under load: (think_time: [0s, 2s]).
	Load map[string][]Level `yaml:"load"`
}

// Rules decide which combinations are valid experiments.
type Rules struct {
	// Require are expressions every experiment must satisfy; when gpus is a factor and Require
	// is empty, the default is tp * dp * pp == gpus.
	Require []string `yaml:"require"`
	Exclude []Match  `yaml:"exclude"` // combinations to drop
	Only    []Match  `yaml:"only"`    // when set, keep only combinations matching one of these
}

// Load holds the settings of the load generator shared by every experiment.
type Load struct {
	SpawnRate float64 `yaml:"spawn_rate"` // users started per second; 0 starts all at once
	// ConnectRate paces the connections a closed loop opens before its start (per second);
	// 0 opens none ahead. StartRamp spreads a burst start's first requests over its length.
	ConnectRate  float64  `yaml:"connect_rate"`
	StartRamp    Duration `yaml:"start_ramp"`
	RunTime      Duration `yaml:"run_time"`   // measured window
	Warmup       Duration `yaml:"warmup"`     // before the measured window, marked in the records
	Cooldown     Duration `yaml:"cooldown"`   // after it, marked in the records
	ThinkTime    Duration `yaml:"think_time"` // a user's pause between requests
	Seed         *int64   `yaml:"seed"`
	Arrival      string   `yaml:"arrival"`       // rate mode: poisson | gamma | constant
	Burstiness   float64  `yaml:"burstiness"`    // gamma shape; 1 is Poisson, < 1 burstier
	MaxInflight  int      `yaml:"max_inflight"`  // rate mode: cap on in-flight requests; 0 = none
	Timeout      Duration `yaml:"timeout"`       // whole request
	StallTimeout Duration `yaml:"stall_timeout"` // longest gap between stream bytes
	Grace        Duration `yaml:"grace"`         // in-flight requests may finish this long after the end
	IgnoreEOS    *bool    `yaml:"ignore_eos"`    // generate exactly max_tokens
	Workers      int      `yaml:"workers"`       // load worker processes per experiment
	// SweepMaxConcurrency is the requests in flight of a sweep's maximum-throughput point.
	SweepMaxConcurrency int    `yaml:"sweep_max_concurrency"`
	Client              string `yaml:"client"` // how responses are read: auto | net/http | epoll
	// VocabSize bounds the token ids of random:IN prompts (ids are drawn below it). Unset, a
	// campaign takes the server's (llama.cpp's /v1/models meta.n_vocab); else [1000, 100000).
	VocabSize *int `yaml:"vocab_size"`
}

// SLO are the service-level objectives goodput counts against; zero means no objective.
type SLO struct {
	TTFT Duration `yaml:"ttft"`
	TPOT Duration `yaml:"tpot"`
	E2E  Duration `yaml:"e2e"`
}

// Server holds how servers are started, shared by every server configuration.
type Server struct {
	ExtraArgs            []string          `yaml:"extra_args"`
	Env                  map[string]string `yaml:"env"`
	Command              []string          `yaml:"command"` // engine command: argv template
	Port                 int               `yaml:"port"`
	Devices              []int             `yaml:"devices"` // GPU indices to use; default 0..N-1
	GPUMemoryUtilization float64           `yaml:"gpu_memory_utilization"`
	StartupTimeout       Duration          `yaml:"startup_timeout"`
	StartupEstimate      Duration          `yaml:"startup_estimate"` // for plan's time estimate
	StopGrace            Duration          `yaml:"stop_grace"`       // SIGTERM → SIGKILL
	Replicas             bool              `yaml:"replicas"`         // DP as separate copies
	Retries              int               `yaml:"retries"`
	Sim                  SimSettings       `yaml:"sim"`
}

// SimSettings configure the built-in simulator (engine: sim).
type SimSettings struct {
	GPU            string  `yaml:"gpu"`           // GPU profile: h100-sxm, a100-sxm, …
	ModelProfile   string  `yaml:"model_profile"` // llama-3-8b, llama-3-70b, …
	Interconnect   string  `yaml:"interconnect"`  // nvlink | pcie
	Speedup        float64 `yaml:"speedup"`       // simulated time runs this much faster
	APIServerCount int     `yaml:"api_server_count"`
	Seed           int64   `yaml:"seed"`
}

// Telemetry configures what is sampled during each experiment.
type Telemetry struct {
	Interval Duration `yaml:"interval"` // grid of GPU and /metrics samples
	GPU      string   `yaml:"gpu"`      // auto | nvidia-smi | nvml | dcgm | none
	DCGMURL  string   `yaml:"dcgm_url"`
	// Traces: receive the server's per-request OpenTelemetry spans (vLLM --otlp-traces-endpoint)
	// into server_spans.parquet.
	Traces bool `yaml:"traces"`
}

// Slurm configures the slurm executor: one batch job per server configuration.
type Slurm struct {
	Partition   string   `yaml:"partition"`
	Account     string   `yaml:"account"`
	TimeLimit   string   `yaml:"time_limit"` // as sbatch --time takes it: 90, 2:00:00, 1-00:00:00
	Nodes       int      `yaml:"nodes"`      // nodes per job (multi-node servers); default 1
	CPUsPerTask int      `yaml:"cpus_per_task"`
	Mem         string   `yaml:"mem"`
	GPUFlag     string   `yaml:"gpu_flag"` // gres (--gres=gpu:N per node) | gpus (--gpus=N) | none
	Extra       []string `yaml:"extra"`    // further #SBATCH options, one --name=value each
	// Setup are shell lines each job runs before llmscale (module load, activating the
	// environment that has vllm); they are written into the script as they are.
	Setup    []string `yaml:"setup"`
	LLMScale string   `yaml:"llmscale"` // the llmscale binary on the nodes; default this one's path
	Poll     Duration `yaml:"poll"`     // between two squeue calls; default 10s
}

// Duration is a time.Duration written as "90s", "3m" or "1h30m" in the matrix file.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalYAML writes the duration the way it is read.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// UnmarshalText reads "90s"; the schema check has already reported malformed values with
// their position, so this error only reaches callers that decode without checking.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText lets JSON and YAML encoders write the duration as text.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }
