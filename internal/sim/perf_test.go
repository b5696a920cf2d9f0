package sim

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/tokens"
)

func hardware(t *testing.T, gpu, model string, tp int, link string) Hardware {
	t.Helper()
	g, err := LookupGPU(gpu)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LookupModel(model)
	if err != nil {
		t.Fatal(err)
	}
	if link == "" {
		link = g.Interconnect
	}
	return Hardware{GPU: g, Model: m, TP: tp, Interconnect: link, Costs: DefaultCosts(),
		ComputeEfficiency: DefaultComputeEfficiency, MemoryEfficiency: DefaultMemoryEfficiency, LinkEfficiency: DefaultLinkEfficiency}
}

func TestModelShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		model      string
		params     float64 // published parameter count
		kvPerToken float64
	}{
		{"llama-3-8b", 8.03e9, 131072},
		{"llama-3-70b", 70.55e9, 327680},
	}
	for _, tt := range tests {
		m, err := LookupModel(tt.model)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Params(); math.Abs(got-tt.params)/tt.params > 0.01 {
			t.Errorf("%s params = %.3g, want %.3g ± 1%%", tt.model, got, tt.params)
		}
		if got := m.KVBytesPerToken(); got != tt.kvPerToken {
			t.Errorf("%s KV bytes/token = %g, want %g", tt.model, got, tt.kvPerToken)
		}
	}
}

func TestLookupErrors(t *testing.T) {
	t.Parallel()
	if _, err := LookupGPU("tpu-v5"); err == nil {
		t.Error("LookupGPU(tpu-v5): no error")
	}
	if _, err := LookupModel("gpt-5"); err == nil {
		t.Error("LookupModel(gpt-5): no error")
	}
	for served, want := range map[string]string{
		"meta-llama/Meta-Llama-3-70B-Instruct":    "llama-3-70b",
		"meta-llama/Llama-3.1-8B-Instruct":        "llama-3.1-8b",
		"meta-llama/Meta-Llama-3-8B-Instruct":     "llama-3-8b",
		"neuralmagic/Meta-Llama-3.1-70B-Instruct": "llama-3.1-70b",
	} {
		if got, ok := GuessModelProfile(served); !ok || got != want {
			t.Errorf("GuessModelProfile(%q) = %q, %v; want %q", served, got, ok, want)
		}
	}
}

func TestKVBlocks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		model          string
		tp             int
		util           float64
		minTok, maxTok int // KV tokens per rank
		wantErr        bool
	}{
		// vLLM reports about 450k tokens of KV cache for Llama-3-8B on one H100 at 0.9.
		{"8b tp1", "llama-3-8b", 1, 0.9, 400_000, 480_000, false},
		{"8b tp2 more than twice", "llama-3-8b", 2, 0.9, 900_000, 1_100_000, false},
		{"70b tp1 does not fit", "llama-3-70b", 1, 0.9, 0, 0, true},
		{"70b tp2 barely fits", "llama-3-70b", 2, 0.9, 1, 60_000, false},
		{"70b tp4", "llama-3-70b", 4, 0.9, 300_000, 500_000, false},
		{"8b low utilisation", "llama-3-8b", 1, 0.25, 10_000, 40_000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hw := hardware(t, "h100-sxm", tt.model, tt.tp, "")
			blocks, err := hw.KVBlocks(tt.util, 8192, 16)
			if tt.wantErr {
				if !errors.Is(err, ErrNoKVCache) {
					t.Fatalf("KVBlocks = %d, %v; want ErrNoKVCache", blocks, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok := blocks * 16; tok < tt.minTok || tok > tt.maxTok {
				t.Errorf("KV tokens = %d, want %d to %d", tok, tt.minTok, tt.maxTok)
			}
		})
	}
}

func decodeStep(seqs, ctx int) Step {
	var s Step
	for range seqs {
		s.Add(ctx, 1, true)
	}
	return s
}

func TestStepTime(t *testing.T) {
	t.Parallel()
	hw := hardware(t, "h100-sxm", "llama-3-8b", 1, "")
	one := hw.StepTime(decodeStep(1, 100))
	// One Llama-3-8B decode stream on an H100 runs at about 7 ms a token (140 tokens/s).
	if one < 5*time.Millisecond || one > 10*time.Millisecond {
		t.Errorf("single decode step = %v, want 5-10ms", one)
	}
	// Memory-bound: 16 sequences cost little more than one.
	if s16 := hw.StepTime(decodeStep(16, 100)); s16 > one*13/10 {
		t.Errorf("16-sequence decode = %v, want within 30%% of one sequence's %v", s16, one)
	}
	// Compute-bound: a 4096-token prefill chunk costs about twice a 2048-token one.
	var p1, p2 Step
	p1.Add(0, 2048, true)
	p2.Add(0, 4096, true)
	if r := float64(hw.StepTime(p2)) / float64(hw.StepTime(p1)); r < 1.8 || r > 2.3 {
		t.Errorf("prefill 4096/2048 step-time ratio = %.2f, want about 2", r)
	}
	// Long contexts make decode slower (KV reads).
	if long := hw.StepTime(decodeStep(64, 4000)); long <= hw.StepTime(decodeStep(64, 100)) {
		t.Errorf("decode with 4000-token contexts (%v) not slower than with 100", long)
	}
	if hw.StepTime(Step{}) != 0 {
		t.Error("an empty step takes time")
	}
}

func TestAllReduceByLink(t *testing.T) {
	t.Parallel()
	step := decodeStep(64, 500)
	tp1 := hardware(t, "h100-sxm", "llama-3-8b", 1, "").StepTime(step)
	nv := hardware(t, "h100-sxm", "llama-3-8b", 2, LinkNVLink).StepTime(step)
	pcie := hardware(t, "h100-sxm", "llama-3-8b", 2, LinkPCIe).StepTime(step)
	if !(nv < tp1) {
		t.Errorf("TP2 over NVLink (%v) not faster than TP1 (%v)", nv, tp1)
	}
	if !(pcie > nv+2*time.Millisecond) {
		t.Errorf("TP2 over PCIe (%v) not clearly slower than over NVLink (%v)", pcie, nv)
	}
	if a := hardware(t, "h100-sxm", "llama-3-8b", 1, "").allReduceTime(1000); a != 0 {
		t.Errorf("TP1 all-reduce = %v, want 0", a)
	}
}

func TestWordsAreOneTokenEach(t *testing.T) {
	t.Parallel()
	for _, w := range words {
		if n := tokens.Count(w); n != 1 {
			t.Errorf("tokens.Count(%q) = %d, want 1", w, n)
		}
	}
	text := string(appendWords(nil, 3, 500))
	if n := tokens.Count(text); n != 500 {
		t.Errorf("500 words count as %d tokens", n)
	}
}
