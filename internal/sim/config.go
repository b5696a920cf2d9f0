package sim

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// DefaultModel is the served model name when Config.Model is empty.
const DefaultModel = "meta-llama/Meta-Llama-3-8B-Instruct"

// Config is everything a simulated server is made of. Zero values take vLLM's defaults where
// vLLM has one (see Resolve).
type Config struct {
	Host  string // listen address for the CLI (the Go API takes a net.Listener)
	Port  int    // 0 picks a free port
	Model string // served model name

	TP                   int // --tensor-parallel-size
	DP                   int // --data-parallel-size
	PP                   int // --pipeline-parallel-size; checked against the model, only 1 runs
	MaxNumSeqs           int // per DP rank; 0 = the GPU's vLLM default
	MaxNumBatchedTokens  int // per DP rank; 0 = the GPU's vLLM default
	GPUMemoryUtilization float64
	APIServerCount       int
	MaxModelLen          int // 0 = the model profile's context length
	BlockSize            int // KV block size in tokens; 0 = 16

	GPU          string // GPU profile; "" = h100-sxm
	ModelProfile string // model profile; "" = guessed from Model, else llama-3-8b
	Interconnect string // nvlink | pcie; "" = the GPU's own
	Speedup      float64
	Seed         int64
	// MeanOutputTokens is the mean length of answers that stop at EOS (requests without
	// ignore_eos); 0 = 256.
	MeanOutputTokens int

	// Cadence, when set, replaces the performance model by a fixed schedule.
	Cadence *Cadence
	// RecordChunks is a file (.parquet, else JSON lines) that receives, on shutdown, the time
	// every chunk was really written.
	RecordChunks string
	// TracesEndpoint, when set, receives one OpenTelemetry span per finished request, with
	// vLLM's attributes (--otlp-traces-endpoint); TracesProtocol is grpc (""), http/protobuf
	// or http/json (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL).
	TracesEndpoint, TracesProtocol string

	Costs  Costs // CPU costs; zero fields take DefaultCosts
	Faults Faults

	// Efficiency factors; zero takes the defaults.
	ComputeEfficiency, MemoryEfficiency, LinkEfficiency float64

	// ErrorFormat is the shape of error bodies: ErrorFormatVLLM (current vLLM, the default) or
	// ErrorFormatLegacy (vLLM releases before errors were nested under "error").
	ErrorFormat string

	Version string // reported by /version
}

// Error formats.
const (
	ErrorFormatVLLM   = "vllm"
	ErrorFormatLegacy = "legacy"
)

// Cadence is the fixed-cadence mode: every response's first token comes TTFT after the request
// and each next one ITL later, whatever the load (durations are divided by Speedup).
type Cadence struct {
	TTFT, ITL time.Duration
}

// Faults make the server misbehave on purpose. Rates are probabilities in [0, 1].
type Faults struct {
	ErrorRate          float64       // requests answered with ErrorStatus at once
	ErrorStatus        int           // 0 = 500
	StallRate          float64       // streams that pause once, halfway
	StallFor           time.Duration // how long a stall lasts (real time); 0 = 10s
	CrashAfterRequests int           // the server dies abruptly after accepting this many requests
	CrashAfter         time.Duration // … or this long after it started (real time)
	SlowStart          time.Duration // /health answers 503 for this long (real time)
	MalformedRate      float64       // streamed chunks replaced by broken JSON
	DropRate           float64       // streams whose connection is cut halfway
	StreamErrorRate    float64       // streams that send an error event (then [DONE]) halfway
	ResetRate          float64       // responses whose TCP connection is reset (RST) halfway
	FirstByteStallRate float64       // responses that wait StallFor before their first byte
}

// Effective is a resolved configuration: what the server really uses.
type Effective struct {
	Config
	GPUProfile   GPU
	ModelShape   Model
	NumGPUBlocks int // per DP rank
	KVTokens     int // per DP rank
}

// Resolve applies defaults, checks the configuration and computes the KV cache.
func Resolve(cfg Config) (Effective, error) {
	c := withDefaults(cfg)
	if err := c.validate(); err != nil {
		return Effective{}, err
	}
	gpu, err := LookupGPU(c.GPU)
	if err != nil {
		return Effective{}, err
	}
	model, err := LookupModel(c.ModelProfile)
	if err != nil {
		return Effective{}, err
	}
	if err := checkParallel(model, c.TP, c.PP); err != nil {
		return Effective{}, err
	}
	if c.Interconnect == "" {
		c.Interconnect = gpu.Interconnect
	}
	c.applyGPUDefaults(gpu, model)
	eff := Effective{Config: c, GPUProfile: gpu, ModelShape: model}
	if err := eff.sizeKVCache(); err != nil && c.Cadence == nil {
		return Effective{}, err // the fixed cadence needs no KV cache
	}
	return eff, eff.checkLimits()
}

// ErrParallel is returned when the parallel sizes do not fit the model, as vLLM refuses them.
var ErrParallel = errors.New("parallel sizes do not fit the model")

// checkParallel applies vLLM's checks of the parallel sizes against the model
// (ModelConfig.verify_with_parallel_config and QKVParallelLinear): TP divides the attention
// heads; TP divides the KV heads, or they divide TP and are replicated; PP divides the layers.
// The simulator runs PP 1 only, so a PP that passes is refused afterwards.
func checkParallel(m Model, tp, pp int) error {
	var errs []error
	if m.Heads%tp != 0 {
		errs = append(errs, fmt.Errorf("Total number of attention heads (%d) must be divisible by tensor parallel size (%d).",
			m.Heads, tp))
	}
	if m.KVHeads%tp != 0 && tp%m.KVHeads != 0 {
		errs = append(errs, fmt.Errorf("Total number of KV heads (%d) must be divisible by tensor parallel size (%d), "+
			"or tensor parallel size by it (KV heads are then replicated).", m.KVHeads, tp))
	}
	if m.Layers%pp != 0 {
		errs = append(errs, fmt.Errorf("Total number of hidden layers (%d) must be divisible by pipeline parallel size (%d).",
			m.Layers, pp))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: model profile %s (%d heads, %d KV heads, %d layers): %w",
			ErrParallel, m.Name, m.Heads, m.KVHeads, m.Layers, errors.Join(errs...))
	}
	if pp != 1 {
		return fmt.Errorf("pipeline-parallel-size %d: the simulator models tensor and data parallelism only", pp)
	}
	return nil
}

func withDefaults(c Config) Config {
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	c.TP, c.DP, c.PP, c.APIServerCount = orOne(c.TP), orOne(c.DP), orOne(c.PP), orOne(c.APIServerCount)
	if c.GPUMemoryUtilization == 0 {
		c.GPUMemoryUtilization = 0.9
	}
	if c.BlockSize == 0 {
		c.BlockSize = 16
	}
	if c.GPU == "" {
		c.GPU = "h100-sxm"
	}
	if c.ModelProfile == "" {
		c.ModelProfile = "llama-3-8b"
		if p, ok := GuessModelProfile(c.Model); ok {
			c.ModelProfile = p
		}
	}
	if c.Speedup == 0 {
		c.Speedup = 1
	}
	if c.MeanOutputTokens == 0 {
		c.MeanOutputTokens = 256
	}
	if c.ErrorFormat == "" {
		c.ErrorFormat = ErrorFormatVLLM
	}
	if c.Faults.ErrorStatus == 0 {
		c.Faults.ErrorStatus = 500
	}
	if c.Faults.StallFor == 0 {
		c.Faults.StallFor = 10 * time.Second
	}
	c.Costs = c.Costs.withDefaults()
	c.ComputeEfficiency = orFloat(c.ComputeEfficiency, DefaultComputeEfficiency)
	c.MemoryEfficiency = orFloat(c.MemoryEfficiency, DefaultMemoryEfficiency)
	c.LinkEfficiency = orFloat(c.LinkEfficiency, DefaultLinkEfficiency)
	return c
}

// applyGPUDefaults fills the batch caps as vLLM's OpenAI server does for this GPU.
func (c *Config) applyGPUDefaults(gpu GPU, model Model) {
	if c.MaxNumSeqs == 0 {
		c.MaxNumSeqs = 256
		if gpu.LargeDefaults {
			c.MaxNumSeqs = 1024
		}
	}
	if c.MaxNumBatchedTokens == 0 {
		c.MaxNumBatchedTokens = 2048
		if gpu.LargeDefaults {
			c.MaxNumBatchedTokens = 8192
		}
	}
	if c.MaxModelLen == 0 {
		c.MaxModelLen = model.MaxModelLen
	}
}

func (c Config) validate() error {
	var errs []error
	check := func(bad bool, format string, args ...any) {
		if bad {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.TP < 1 || c.TP > 64, "tensor-parallel-size %d: want 1 to 64", c.TP)
	check(c.DP < 1 || c.DP > 64, "data-parallel-size %d: want 1 to 64", c.DP)
	check(c.APIServerCount < 1 || c.APIServerCount > 64, "api-server-count %d: want 1 to 64", c.APIServerCount)
	check(c.MaxNumSeqs < 0, "max-num-seqs %d: want ≥ 1", c.MaxNumSeqs)
	check(c.MaxNumBatchedTokens < 0, "max-num-batched-tokens %d: want ≥ 1", c.MaxNumBatchedTokens)
	check(c.MaxNumSeqs > 0 && c.MaxNumBatchedTokens > 0 && c.MaxNumBatchedTokens < c.MaxNumSeqs,
		"max-num-batched-tokens %d is smaller than max-num-seqs %d", c.MaxNumBatchedTokens, c.MaxNumSeqs)
	check(c.GPUMemoryUtilization <= 0 || c.GPUMemoryUtilization > 1, "gpu-memory-utilization %g: want (0, 1]", c.GPUMemoryUtilization)
	check(c.MaxModelLen < 0, "max-model-len %d: want ≥ 1", c.MaxModelLen)
	check(c.BlockSize < 1 || c.BlockSize > 1024, "block-size %d: want 1 to 1024", c.BlockSize)
	check(c.PP < 1 || c.PP > 64, "pipeline-parallel-size %d: want 1 to 64", c.PP)
	check(c.Interconnect != "" && c.Interconnect != LinkNVLink && c.Interconnect != LinkXGMI && c.Interconnect != LinkPCIe,
		"interconnect %q: want nvlink, xgmi or pcie", c.Interconnect)
	check(c.Speedup <= 0 || c.Speedup > 1e6, "speedup %g: want > 0", c.Speedup)
	check(c.Port < 0 || c.Port > 65535, "port %d: want 0 to 65535", c.Port)
	check(c.MeanOutputTokens < 1, "mean output tokens %d: want ≥ 1", c.MeanOutputTokens)
	check(c.ErrorFormat != ErrorFormatVLLM && c.ErrorFormat != ErrorFormatLegacy,
		"error format %q: want vllm or legacy", c.ErrorFormat)
	if c.Cadence != nil {
		check(c.Cadence.TTFT < 0 || c.Cadence.ITL < 0, "fixed cadence: durations must not be negative")
	}
	errs = append(errs, c.Faults.validate()...)
	return errors.Join(errs...)
}

func (f Faults) validate() []error {
	var errs []error
	for name, r := range map[string]float64{"error rate": f.ErrorRate, "stall rate": f.StallRate,
		"malformed-chunk rate": f.MalformedRate, "drop rate": f.DropRate, "stream-error rate": f.StreamErrorRate,
		"reset rate": f.ResetRate, "first-byte stall rate": f.FirstByteStallRate} {
		if r < 0 || r > 1 {
			errs = append(errs, fmt.Errorf("fault %s %g: want a probability in [0, 1]", name, r))
		}
	}
	if f.ErrorStatus < 400 || f.ErrorStatus > 599 {
		errs = append(errs, fmt.Errorf("fault error status %d: want 400 to 599", f.ErrorStatus))
	}
	if f.CrashAfterRequests < 0 || f.CrashAfter < 0 || f.SlowStart < 0 || f.StallFor < 0 {
		errs = append(errs, errors.New("fault counts and durations must not be negative"))
	}
	return errs
}

// sizeKVCache computes the KV blocks per rank.
func (e *Effective) sizeKVCache() error {
	hw := e.Hardware()
	blocks, err := hw.KVBlocks(e.GPUMemoryUtilization, e.MaxNumBatchedTokens, e.BlockSize)
	if err != nil {
		return err
	}
	e.NumGPUBlocks, e.KVTokens = blocks, blocks*e.BlockSize
	return nil
}

// checkLimits refuses a KV cache too small for one sequence of max-model-len, as vLLM does.
func (e Effective) checkLimits() error {
	if e.Cadence != nil {
		return nil
	}
	if e.KVTokens < e.MaxModelLen {
		return fmt.Errorf("%w: max-model-len %d needs %d tokens of KV cache and only %d fit "+
			"(lower --max-model-len or raise --gpu-memory-utilization or --tensor-parallel-size)",
			ErrNoKVCache, e.MaxModelLen, e.MaxModelLen, e.KVTokens)
	}
	return nil
}

// Hardware is the per-rank hardware of the configuration.
func (e Effective) Hardware() Hardware {
	return Hardware{GPU: e.GPUProfile, Model: e.ModelShape, TP: e.TP, Interconnect: e.Interconnect, Costs: e.Costs,
		ComputeEfficiency: e.ComputeEfficiency, MemoryEfficiency: e.MemoryEfficiency, LinkEfficiency: e.LinkEfficiency}
}

// ClusterConfig is the configuration of the performance model.
func (e Effective) ClusterConfig() ClusterConfig {
	return ClusterConfig{Hardware: e.Hardware(), DP: e.DP, APIServers: e.APIServerCount, MaxNumSeqs: e.MaxNumSeqs,
		MaxTokens: e.MaxNumBatchedTokens, BlockSize: e.BlockSize, Blocks: e.NumGPUBlocks}
}

// Addr is host:port to listen on.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

func orOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

func orFloat(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}
