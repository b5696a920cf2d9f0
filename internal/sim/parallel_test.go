package sim

import (
	"errors"
	"strings"
	"testing"
)

// TestParallelChecks holds the simulator to vLLM's checks of TP and PP against the model.
func TestParallelChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" accepts
	}{
		{"tp 2 divides 32 heads", Config{TP: 2}, ""},
		{"tp 3 does not divide 32 heads", Config{TP: 3},
			"Total number of attention heads (32) must be divisible by tensor parallel size (3)."},
		{"tp 6 does not divide 32 heads", Config{TP: 6}, "tensor parallel size (6)"},
		{"tp 12 on 64 heads and 8 kv heads", Config{TP: 12, ModelProfile: "llama-3-70b"}, "attention heads (64)"},
		{"tp 16 replicates 8 kv heads", Config{TP: 16, ModelProfile: "llama-3-70b"}, ""},
		{"pp 3 does not divide 32 layers", Config{PP: 3},
			"Total number of hidden layers (32) must be divisible by pipeline parallel size (3)."},
		{"pp 2 divides but is not modelled", Config{PP: 2}, "tensor and data parallelism only"},
		{"pp 0 is a bad value", Config{PP: -1}, "pipeline-parallel-size -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Resolve(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Resolve: %v, want success", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Resolve: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParallelErrorIsTyped(t *testing.T) {
	t.Parallel()
	_, err := Resolve(Config{TP: 3})
	if !errors.Is(err, ErrParallel) {
		t.Fatalf("Resolve(tp 3) = %v, want ErrParallel", err)
	}
}

// TestLargeGPUProfiles checks the new profiles against their datasheets and what they make
// possible: a 70B model in BF16 on one GPU fits on a B200 or an MI300X, not on an H200.
func TestLargeGPUProfiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		gpu          string
		memGB        float64 // decimal GB as marketed
		bandwidthTBs float64
		link         string
		fits70B      bool
	}{
		{"h200", 150.8, 4.8, LinkNVLink, false},
		{"b200", 192.3, 8, LinkNVLink, true},
		{"mi300x", 205.8, 5.3, LinkXGMI, true},
	}
	for _, tt := range tests {
		t.Run(tt.gpu, func(t *testing.T) {
			t.Parallel()
			g, err := LookupGPU(tt.gpu)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.MemoryBytes / 1e9; got < tt.memGB-0.1 || got > tt.memGB+0.1 {
				t.Errorf("memory %.1f GB, want %.1f", got, tt.memGB)
			}
			if got := g.MemBandwidth / tera; got != tt.bandwidthTBs {
				t.Errorf("bandwidth %g TB/s, want %g", got, tt.bandwidthTBs)
			}
			if !g.LargeDefaults || g.Interconnect != tt.link {
				t.Errorf("large defaults %v, link %q; want true, %q", g.LargeDefaults, g.Interconnect, tt.link)
			}
			eff, err := Resolve(Config{GPU: tt.gpu, ModelProfile: "llama-3-70b"})
			if fits := err == nil; fits != tt.fits70B {
				t.Fatalf("70B on one %s: err %v, want fits=%v", tt.gpu, err, tt.fits70B)
			}
			if tt.fits70B && eff.MaxNumSeqs != 1024 {
				t.Errorf("max-num-seqs %d, want vLLM's large default 1024", eff.MaxNumSeqs)
			}
		})
	}
}

// TestXGMIIsADirectLink: MI300X's Infinity Fabric all-reduces cost what a direct link costs,
// far less than PCIe.
func TestXGMIIsADirectLink(t *testing.T) {
	t.Parallel()
	g, _ := LookupGPU("mi300x")
	m, _ := LookupModel("llama-3-70b")
	hw := func(link string) Hardware {
		return Hardware{GPU: g, Model: m, TP: 4, Interconnect: link, LinkEfficiency: 0.8}
	}
	x, p := hw(LinkXGMI).allReduceTime(4096), hw(LinkPCIe).allReduceTime(4096)
	if !(x > 0 && x*5 < p) {
		t.Fatalf("all-reduce over xgmi %.3gs, over pcie %.3gs; want xgmi far cheaper", x, p)
	}
}
