package sim

import (
	"fmt"
	"sort"
	"strings"
)

// GPU is a GPU profile: public datasheet figures of one accelerator. Achievable rates are these
// times the efficiency factors of Hardware.
type GPU struct {
	Name string
	// MemoryBytes is the device memory CUDA reports (what vLLM multiplies by
	// --gpu-memory-utilization), not the marketing "80 GB".
	MemoryBytes float64
	// FLOPS is the dense BF16 tensor-core peak (no 2:4 sparsity), in FLOP/s.
	FLOPS float64
	// MemBandwidth is the HBM (or GDDR) peak, in bytes/s.
	MemBandwidth float64
	// NVLinkBandwidth is the total NVLink bandwidth of one GPU (both directions), in bytes/s;
	// 0 means the part has no NVLink.
	NVLinkBandwidth float64
	// PCIeBandwidth is the PCIe bandwidth of one GPU per direction, in bytes/s.
	PCIeBandwidth float64
	// Interconnect is what links GPUs of this part by default: LinkNVLink, LinkXGMI or LinkPCIe.
	// NVLinkBandwidth holds the bandwidth of the direct GPU fabric whichever it is (NVLink or
	// AMD's Infinity Fabric, "xgmi").
	Interconnect string
	// LargeDefaults reports whether vLLM gives this GPU its large defaults (max-num-seqs 1024,
	// max-num-batched-tokens 8192 for the OpenAI server): ≥ 70 GiB and not an A100.
	LargeDefaults bool
	Source        string // where the figures come from
}

// Interconnect names.
const (
	LinkNVLink = "nvlink"
	LinkXGMI   = "xgmi" // AMD Infinity Fabric between Instinct GPUs
	LinkPCIe   = "pcie"
)

const (
	gib = 1 << 30
	mib = 1 << 20
	// NVIDIA datasheets give bandwidths in decimal units.
	tera = 1e12
	giga = 1e9
)

// gpuProfiles are the GPUs the simulator knows. Figures are NVIDIA's public datasheets:
//   - H100 SXM5 80GB: 989.4 TFLOP/s dense BF16 (1,979 with sparsity), 3.35 TB/s HBM3, NVLink 4
//     900 GB/s, PCIe Gen5 x16 (64 GB/s per direction); nvidia-smi reports 81,559 MiB.
//     NVIDIA H100 Tensor Core GPU datasheet (2023), nvidia.com/en-us/data-center/h100.
//   - H100 PCIe 80GB: 756 TFLOP/s dense BF16, 2.0 TB/s HBM2e, PCIe Gen5 x16; NVLink only with a
//     bridge between pairs, so PCIe is its default link. Same datasheet; NVIDIA H100 PCIe product
//     brief PB-11133-001.
//   - A100 SXM4 80GB: 312 TFLOP/s dense BF16, 2,039 GB/s HBM2e, NVLink 3 600 GB/s, PCIe Gen4 x16
//     (32 GB/s per direction); 81,920 MiB. NVIDIA A100 Tensor Core GPU datasheet (2021).
//   - A100 PCIe 80GB: 312 TFLOP/s, 1,935 GB/s, PCIe Gen4. Same datasheet.
//   - L40S: 362 TFLOP/s dense BF16, 864 GB/s GDDR6, 48 GB (46,068 MiB), PCIe Gen4 x16, no
//     NVLink. NVIDIA L40S datasheet (2023).
//   - H200 SXM 141GB: 989 TFLOP/s dense BF16 (1,979 with sparsity), 4.8 TB/s HBM3e, NVLink 4
//     900 GB/s, PCIe Gen5 x16; nvidia-smi reports 143,771 MiB. NVIDIA H200 Tensor Core GPU
//     datasheet (2024), nvidia.com/en-us/data-center/h200.
//   - B200 180GB (HGX B200): 2.25 PFLOP/s dense BF16 (36 PFLOP/s with sparsity for 8 GPUs),
//     8 TB/s HBM3e, NVLink 5 1.8 TB/s, PCIe Gen5 x16; nvidia-smi reports 183,359 MiB. NVIDIA HGX
//     B200 / DGX B200 datasheets (2024), nvidia.com/en-us/data-center/hgx.
//   - MI300X 192GB: 1,307.4 TFLOP/s dense BF16 (2,614.9 with sparsity), 5.3 TB/s HBM3, seven
//     Infinity Fabric links of 128 GB/s (896 GB/s), PCIe Gen5 x16; rocm-smi reports
//     205,822,885,888 bytes. AMD Instinct MI300X data sheet (2023), amd.com.
func gpuProfiles() []GPU {
	const h100 = "NVIDIA H100 Tensor Core GPU datasheet"
	const a100 = "NVIDIA A100 Tensor Core GPU datasheet"
	return []GPU{
		{Name: "h200", MemoryBytes: 143771 * mib, FLOPS: 989.4 * tera, MemBandwidth: 4.8 * tera,
			NVLinkBandwidth: 900 * giga, PCIeBandwidth: 64 * giga, Interconnect: LinkNVLink, LargeDefaults: true,
			Source: "NVIDIA H200 Tensor Core GPU datasheet"},
		{Name: "b200", MemoryBytes: 183359 * mib, FLOPS: 2250 * tera, MemBandwidth: 8 * tera,
			NVLinkBandwidth: 1800 * giga, PCIeBandwidth: 64 * giga, Interconnect: LinkNVLink, LargeDefaults: true,
			Source: "NVIDIA HGX B200 datasheet"},
		{Name: "mi300x", MemoryBytes: 205822885888, FLOPS: 1307.4 * tera, MemBandwidth: 5.3 * tera,
			NVLinkBandwidth: 896 * giga, PCIeBandwidth: 64 * giga, Interconnect: LinkXGMI, LargeDefaults: true,
			Source: "AMD Instinct MI300X data sheet"},
		{Name: "h100-sxm", MemoryBytes: 81559 * mib, FLOPS: 989.4 * tera, MemBandwidth: 3.35 * tera,
			NVLinkBandwidth: 900 * giga, PCIeBandwidth: 64 * giga, Interconnect: LinkNVLink, LargeDefaults: true, Source: h100},
		{Name: "h100-pcie", MemoryBytes: 81559 * mib, FLOPS: 756 * tera, MemBandwidth: 2.0 * tera,
			NVLinkBandwidth: 600 * giga, PCIeBandwidth: 64 * giga, Interconnect: LinkPCIe, LargeDefaults: true, Source: h100},
		{Name: "a100-sxm", MemoryBytes: 81920 * mib, FLOPS: 312 * tera, MemBandwidth: 2.039 * tera,
			NVLinkBandwidth: 600 * giga, PCIeBandwidth: 32 * giga, Interconnect: LinkNVLink, Source: a100},
		{Name: "a100-pcie", MemoryBytes: 81920 * mib, FLOPS: 312 * tera, MemBandwidth: 1.935 * tera,
			NVLinkBandwidth: 600 * giga, PCIeBandwidth: 32 * giga, Interconnect: LinkPCIe, Source: a100},
		{Name: "l40s", MemoryBytes: 46068 * mib, FLOPS: 362 * tera, MemBandwidth: 864 * giga,
			PCIeBandwidth: 32 * giga, Interconnect: LinkPCIe, Source: "NVIDIA L40S GPU datasheet"},
	}
}

// Model is a Llama-shaped decoder-only transformer, in BF16.
type Model struct {
	Name          string
	Layers        int
	Hidden        int // model dimension
	Heads         int // attention (query) heads
	KVHeads       int // key/value heads (grouped-query attention)
	HeadDim       int
	Intermediate  int // MLP width (SwiGLU: three matrices of Hidden × Intermediate)
	Vocab         int
	MaxModelLen   int // context length served by default
	BytesPerParam float64
	Source        string
}

// modelProfiles are the models the simulator knows, from their published configs
// (huggingface.co/meta-llama/Meta-Llama-3-8B/blob/main/config.json and
// .../Meta-Llama-3-70B/blob/main/config.json; Llama 3.1 differs only in max_position_embeddings).
func modelProfiles() []Model {
	const src = "meta-llama config.json on Hugging Face"
	return []Model{
		{Name: "llama-3-8b", Layers: 32, Hidden: 4096, Heads: 32, KVHeads: 8, HeadDim: 128, Intermediate: 14336,
			Vocab: 128256, MaxModelLen: 8192, BytesPerParam: 2, Source: src},
		{Name: "llama-3-70b", Layers: 80, Hidden: 8192, Heads: 64, KVHeads: 8, HeadDim: 128, Intermediate: 28672,
			Vocab: 128256, MaxModelLen: 8192, BytesPerParam: 2, Source: src},
		{Name: "llama-3.1-8b", Layers: 32, Hidden: 4096, Heads: 32, KVHeads: 8, HeadDim: 128, Intermediate: 14336,
			Vocab: 128256, MaxModelLen: 131072, BytesPerParam: 2, Source: src},
		{Name: "llama-3.1-70b", Layers: 80, Hidden: 8192, Heads: 64, KVHeads: 8, HeadDim: 128, Intermediate: 28672,
			Vocab: 128256, MaxModelLen: 131072, BytesPerParam: 2, Source: src},
	}
}

// LayerParams is the number of weights in one transformer layer: the four attention
// projections and the three SwiGLU matrices (norms are negligible).
func (m Model) LayerParams() float64 {
	h, kv := float64(m.Hidden), float64(m.KVHeads*m.HeadDim)
	attn := 2*h*h + 2*h*kv
	mlp := 3 * h * float64(m.Intermediate)
	return attn + mlp
}

// Params is the total number of weights: layers, input embedding and LM head.
func (m Model) Params() float64 {
	return float64(m.Layers)*m.LayerParams() + 2*float64(m.Vocab)*float64(m.Hidden)
}

// KVBytesPerToken is the KV cache one token needs on all GPUs together: K and V for every
// layer and KV head.
func (m Model) KVBytesPerToken() float64 {
	return 2 * float64(m.Layers*m.KVHeads*m.HeadDim) * m.BytesPerParam
}

// LookupGPU finds a GPU profile by name (case-insensitive).
func LookupGPU(name string) (GPU, error) {
	for _, g := range gpuProfiles() {
		if strings.EqualFold(g.Name, name) {
			return g, nil
		}
	}
	return GPU{}, fmt.Errorf("unknown GPU profile %q (known: %s)", name, strings.Join(GPUNames(), ", "))
}

// LookupModel finds a model profile by name (case-insensitive).
func LookupModel(name string) (Model, error) {
	for _, m := range modelProfiles() {
		if strings.EqualFold(m.Name, name) {
			return m, nil
		}
	}
	return Model{}, fmt.Errorf("unknown model profile %q (known: %s)", name, strings.Join(ModelNames(), ", "))
}

// GPUNames lists the GPU profiles.
func GPUNames() []string {
	var out []string
	for _, g := range gpuProfiles() {
		out = append(out, g.Name)
	}
	sort.Strings(out)
	return out
}

// ModelNames lists the model profiles.
func ModelNames() []string {
	var out []string
	for _, m := range modelProfiles() {
		out = append(out, m.Name)
	}
	sort.Strings(out)
	return out
}

// GuessModelProfile picks a model profile from a served model name such as
// "meta-llama/Meta-Llama-3-70B-Instruct"; ok is false when nothing matches.
func GuessModelProfile(served string) (string, bool) {
	s := strings.ToLower(served)
	is31 := strings.Contains(s, "3.1") || strings.Contains(s, "3_1")
	switch {
	case strings.Contains(s, "70b") && is31:
		return "llama-3.1-70b", true
	case strings.Contains(s, "70b"):
		return "llama-3-70b", true
	case strings.Contains(s, "8b") && is31:
		return "llama-3.1-8b", true
	case strings.Contains(s, "8b"):
		return "llama-3-8b", true
	}
	return "", false
}
