package sim

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Efficiency factors turn datasheet peaks into rates a serving engine reaches. They are
// assumptions, not measurements; docs/simulator.md discusses them.
const (
	// DefaultComputeEfficiency is the fraction of dense BF16 peak that the GEMMs of a serving
	// step reach (model FLOPs utilisation of 40–60% is typical of well-tuned inference).
	DefaultComputeEfficiency = 0.5
	// DefaultMemoryEfficiency is the fraction of HBM peak that weight and KV-cache reads reach
	// (decode kernels stream at 70–85% of peak).
	DefaultMemoryEfficiency = 0.75
	// DefaultLinkEfficiency is the fraction of link peak an NCCL ring all-reduce reaches.
	DefaultLinkEfficiency = 0.8
)

// Link latencies per ring step of an all-reduce. NCCL and vLLM's custom all-reduce take a few
// microseconds per hop over NVLink/NVSwitch; over PCIe (no NVLink, often no peer-to-peer) each
// hop goes through the host bridge and costs tens of microseconds.
const (
	nvlinkHopLatency = 2 * time.Microsecond
	pcieHopLatency   = 30 * time.Microsecond
)

// Costs are the CPU times the simulator charges outside the GPU. They are assumptions
// calibrated to vLLM V1's behaviour (docs/simulator.md); zero fields take the defaults.
type Costs struct {
	// Request is the API server's serial work per request: HTTP parsing, validation, building
	// the engine request, and finishing the response.
	Request time.Duration
	// PromptToken is the API server's tokenisation cost per prompt token.
	PromptToken time.Duration
	// OutputToken is the API server's per-token cost: detokenising, building and writing one
	// streamed chunk.
	OutputToken time.Duration
	// Step is the engine core's fixed CPU time per step: scheduling, preparing inputs,
	// launching the forward pass, sampling.
	Step time.Duration
	// StepSeq is the engine core's extra CPU time per running sequence per step.
	StepSeq time.Duration
}

// DefaultCosts returns the default CPU costs.
func DefaultCosts() Costs {
	return Costs{
		Request:     800 * time.Microsecond,
		PromptToken: 1 * time.Microsecond,
		OutputToken: 25 * time.Microsecond,
		Step:        1500 * time.Microsecond,
		StepSeq:     10 * time.Microsecond,
	}
}

func (c Costs) withDefaults() Costs {
	d := DefaultCosts()
	pick := func(v, def time.Duration) time.Duration {
		if v == 0 {
			return def
		}
		return v
	}
	return Costs{Request: pick(c.Request, d.Request), PromptToken: pick(c.PromptToken, d.PromptToken),
		OutputToken: pick(c.OutputToken, d.OutputToken), Step: pick(c.Step, d.Step), StepSeq: pick(c.StepSeq, d.StepSeq)}
}

// Hardware is one DP rank's hardware: a model sharded over TP GPUs of one profile.
type Hardware struct {
	GPU          GPU
	Model        Model
	TP           int
	Interconnect string
	Costs        Costs

	ComputeEfficiency, MemoryEfficiency, LinkEfficiency float64
}

// ErrNoKVCache is returned when the weights leave no room for the KV cache (or for one
// sequence of the maximum length), as vLLM refuses to start then.
var ErrNoKVCache = errors.New("not enough GPU memory for the KV cache")

// weightBytesPerGPU is the weight shard one GPU holds.
func (h Hardware) weightBytesPerGPU() float64 {
	return h.Model.Params() * h.Model.BytesPerParam / float64(h.TP)
}

// kvBytesPerTokenPerGPU is one token's KV cache on one GPU: KV heads are split across TP
// ranks, and replicated when TP exceeds their number.
func (h Hardware) kvBytesPerTokenPerGPU() float64 {
	heads := math.Max(1, float64(h.Model.KVHeads)/float64(h.TP))
	return 2 * float64(h.Model.Layers) * heads * float64(h.Model.HeadDim) * h.Model.BytesPerParam
}

// activationReserve is what vLLM's memory profiling sets aside besides weights: peak
// activations of a max-num-batched-tokens forward pass, CUDA graphs and allocator slack.
func (h Hardware) activationReserve(mbt int) float64 {
	act := float64(mbt) * 4 * float64(h.Model.Intermediate) * h.Model.BytesPerParam / float64(h.TP)
	return 1*gib + act
}

// KVBlocks is the number of KV-cache blocks of blockSize tokens each GPU of the rank holds:
// memory × utilisation − weights − activations, over the per-token KV size.
func (h Hardware) KVBlocks(util float64, mbt, blockSize int) (int, error) {
	free := h.GPU.MemoryBytes*util - h.weightBytesPerGPU() - h.activationReserve(mbt)
	if free <= 0 {
		return 0, fmt.Errorf("%w: %s weights need %.1f GiB per GPU at tp %d, %s has %.1f GiB × %.2f utilisation",
			ErrNoKVCache, h.Model.Name, h.weightBytesPerGPU()/gib, h.TP, h.GPU.Name, h.GPU.MemoryBytes/gib, util)
	}
	return int(free / (h.kvBytesPerTokenPerGPU() * float64(blockSize))), nil
}

// Step is the shape of one engine step, the input of StepTime.
type Step struct {
	Seqs    int     // sequences in the batch
	Tokens  int     // tokens computed: decode tokens plus prefill chunk tokens
	Sampled int     // sequences that sample a token (reach the end of their known tokens)
	KVRead  float64 // tokens of KV cache read by attention, summed over sequences
	AttnOps float64 // Σ over new tokens of the context each attends to (query × key pairs)
}

// Add puts one sequence into the step: n new tokens after c already computed; sampled when
// the chunk ends the sequence's known tokens.
func (s *Step) Add(c, n int, sampled bool) {
	s.Seqs++
	s.Tokens += n
	if sampled {
		s.Sampled++
	}
	fc, fn := float64(c), float64(n)
	s.KVRead += fc + fn
	s.AttnOps += fn*fc + fn*(fn+1)/2
}

// StepTime is how long one engine step takes: CPU overhead plus the slower of compute and
// memory traffic (a roofline), both divided among TP GPUs, plus TP's all-reduces.
func (h Hardware) StepTime(s Step) time.Duration { return h.StepParts(s).Total() }

// StepParts splits one engine step's time into its CPU, compute, memory and all-reduce parts.
func (h Hardware) StepParts(s Step) StepParts {
	if s.Seqs == 0 {
		return StepParts{}
	}
	m := h.Model
	tp := float64(h.TP)
	linear := 2 * float64(m.Layers) * m.LayerParams() * float64(s.Tokens)
	lmHead := 2 * float64(m.Vocab) * float64(m.Hidden) * float64(s.Sampled)
	attn := 4 * float64(m.Layers) * float64(m.Heads*m.HeadDim) * s.AttnOps
	compute := (linear + lmHead + attn) / (tp * h.GPU.FLOPS * h.ComputeEfficiency)

	weights := (float64(m.Layers)*m.LayerParams() + float64(m.Vocab)*float64(m.Hidden)) * m.BytesPerParam / tp
	kv := s.KVRead * h.kvBytesPerTokenPerGPU()
	memory := (weights + kv) / (h.GPU.MemBandwidth * h.MemoryEfficiency)
	return StepParts{CPU: h.Costs.Step + time.Duration(s.Seqs)*h.Costs.StepSeq,
		Compute: seconds(compute), Memory: seconds(memory), AllReduce: seconds(h.allReduceTime(s.Tokens))}
}

// StepParts is where one step's time goes: engine CPU work (the GPUs idle), then the GPU's
// kernels, which last the longer of their compute and memory time (a roofline), then TP's
// all-reduces.
type StepParts struct {
	CPU, Compute, Memory, AllReduce time.Duration
}

// Kernels is the time the step's compute kernels run: the longer of compute and memory.
func (p StepParts) Kernels() time.Duration { return max(p.Compute, p.Memory) }

// GPU is the time the GPUs are busy: kernels and all-reduces.
func (p StepParts) GPU() time.Duration { return p.Kernels() + p.AllReduce }

// Total is the step's length.
func (p StepParts) Total() time.Duration { return p.CPU + p.GPU() }

// allReduceTime is TP's communication in one step: two ring all-reduces per layer (after
// attention and after the MLP) of the step's activations, each 2(TP−1) hops of latency plus
// 2(TP−1)/TP of the message over the link bandwidth.
func (h Hardware) allReduceTime(tokens int) float64 {
	if h.TP <= 1 {
		return 0
	}
	tp := float64(h.TP)
	bytes := float64(tokens) * float64(h.Model.Hidden) * h.Model.BytesPerParam
	bw, hop := h.linkBandwidth(), h.hopLatency()
	one := 2*(tp-1)*hop.Seconds() + 2*(tp-1)/tp*bytes/bw
	return 2 * float64(h.Model.Layers) * one
}

// linkBandwidth is the achievable bandwidth one GPU sends at in a ring, in bytes/s: half of
// NVLink's bidirectional total, or PCIe's per-direction rate.
func (h Hardware) linkBandwidth() float64 {
	if h.directLink() {
		return h.GPU.NVLinkBandwidth / 2 * h.LinkEfficiency
	}
	return h.GPU.PCIeBandwidth * h.LinkEfficiency
}

func (h Hardware) hopLatency() time.Duration {
	if h.directLink() {
		return nvlinkHopLatency
	}
	return pcieHopLatency
}

// directLink reports a GPU-to-GPU fabric (NVLink, or Infinity Fabric on AMD parts) that this
// GPU has.
func (h Hardware) directLink() bool {
	return (h.Interconnect == LinkNVLink || h.Interconnect == LinkXGMI) && h.GPU.NVLinkBandwidth > 0
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
