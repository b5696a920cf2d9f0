package matrix

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmscale/llmscale/internal/spec"
)

func plan(t *testing.T, yaml string, overlays ...spec.Overlay) Plan {
	t.Helper()
	l, err := spec.Parse([]byte(yaml), "t.yaml", matrixDir, overlays...)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	p, err := Expand(l)
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	return p
}

func ids(p Plan) []string {
	out := make([]string, len(p.Experiments))
	for i, e := range p.Experiments {
		out[i] = e.ID
	}
	return out
}

func TestExpand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		ids     []string
		servers int
		skipped []string // reasons, in order
	}{
		{
			name: "default rule tp*dp*pp == gpus",
			yaml: "campaign: c\nfactors: {gpus: [1, 2], tp: [1, 2], dp: [1, 2], prompts: ['random:8:4']}",
			ids: []string{
				"c_G1_TP1_DP1_U10_rand8x4_O4",
				"c_G2_TP1_DP2_U10_rand8x4_O4",
				"c_G2_TP2_DP1_U10_rand8x4_O4",
			},
			servers: 3,
			skipped: []string{
				`rule "tp * dp * pp == gpus" is false (tp=1 dp=2 pp=1 gpus=1)`,
				`rule "tp * dp * pp == gpus" is false (tp=2 dp=1 pp=1 gpus=1)`,
				`rule "tp * dp * pp == gpus" is false (tp=2 dp=2 pp=1 gpus=1)`,
				`rule "tp * dp * pp == gpus" is false (tp=1 dp=1 pp=1 gpus=2)`,
				`rule "tp * dp * pp == gpus" is false (tp=2 dp=2 pp=1 gpus=2)`,
			},
		},
		{
			name:    "without gpus every tp and dp is valid and gpus is derived",
			yaml:    "campaign: c\nfactors: {tp: [1, 2], dp: [2], prompts: ['random:8']}",
			ids:     []string{"c_G2_TP1_DP2_U10_rand8_O128", "c_G4_TP2_DP2_U10_rand8_O128"},
			servers: 2,
		},
		{
			name: "exclude as a map and as an expression, only",
			yaml: `campaign: c
factors: {tp: [1, 2, 4], users: [1, 8], prompts: ['random:8']}
rules:
  exclude: [{tp: 4, users: 8}, "tp == 2 && users == 1"]
  only: ["users > 1 || tp == 1"]`,
			ids:     []string{"c_G1_TP1_DP1_U1_rand8_O128", "c_G1_TP1_DP1_U8_rand8_O128", "c_G2_TP2_DP1_U8_rand8_O128"},
			servers: 2,
			skipped: []string{
				`excluded by rules.exclude[1] tp == 2 && users == 1`,
				`matches none of rules.only`,
				`excluded by rules.exclude[0] {tp: 4, users: 8}`,
			},
		},
		{
			name: "repeats follow each other and only later ones get a suffix",
			yaml: "campaign: c\nrepeats: 3\nfactors: {concurrency: [4], prompts: ['random:8']}",
			ids: []string{"c_G1_TP1_DP1_C4_rand8_O128", "c_G1_TP1_DP1_C4_rand8_O128_r2",
				"c_G1_TP1_DP1_C4_rand8_O128_r3"},
			servers: 1,
		},
		{
			name: "rate levels, batch caps, pp, max_tokens",
			yaml: "campaign: My Campaign!\nengine: vllm\nmodel: m\nfactors: {pp: [2], rate: [2.5, 10], batch_size: [64], mbt: [2048], max_tokens: [16], prompts: ['random:8']}",
			ids: []string{"My-Campaign_G2_TP1_DP1_PP2_R2.5_rand8_O16_B64_MBT2048",
				"My-Campaign_G2_TP1_DP1_PP2_R10_rand8_O16_B64_MBT2048"},
			servers: 1,
		},
		{
			name: "free-form server and load factors",
			yaml: `campaign: c
factors:
  prompts: ['random:8']
  server_args: {"--enable-prefix-caching": [true, false]}
  load: {think_time: [0s, 2s]}`,
			ids: []string{
				"c_G1_TP1_DP1_U10_rand8_O128_enable-prefix-caching-true_think-time-0s",
				"c_G1_TP1_DP1_U10_rand8_O128_enable-prefix-caching-true_think-time-2s",
				"c_G1_TP1_DP1_U10_rand8_O128_enable-prefix-caching-false_think-time-0s",
				"c_G1_TP1_DP1_U10_rand8_O128_enable-prefix-caching-false_think-time-2s",
			},
			servers: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := plan(t, tt.yaml)
			if diff := cmp.Diff(tt.ids, ids(p)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if len(p.Servers) != tt.servers {
				t.Errorf("got %d server configurations, want %d", len(p.Servers), tt.servers)
			}
			var reasons []string
			for _, s := range p.Skipped {
				reasons = append(reasons, s.Reason)
			}
			if diff := cmp.Diff(tt.skipped, reasons); diff != "" {
				t.Errorf("skipped reasons (-want +got):\n%s", diff)
			}
			if p.Combinations != len(p.Experiments)+len(p.Skipped) {
				t.Errorf("combinations %d != experiments %d + skipped %d", p.Combinations, len(p.Experiments), len(p.Skipped))
			}
		})
	}
}

func TestExpandServerSettings(t *testing.T) {
	t.Parallel()
	p := plan(t, `campaign: c
engine: vllm
model: m
factors:
  tp: [2]
  batch_size: [32]
  prompts: ['random:8']
  server_args: {"--enable-prefix-caching": [true], "--block-size": [32]}
  server_env: {VLLM_X: ["1"]}
  load: {think_time: [1s]}
server:
  extra_args: [--disable-log-requests]
  env: {A: b}
load: {run_time: 30s, think_time: 5s}`)
	e := p.Experiments[0]
	wantArgs := []string{"--disable-log-requests", "--block-size", "32", "--enable-prefix-caching"}
	if diff := cmp.Diff(wantArgs, e.Server.Args); diff != "" {
		t.Errorf("server args (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"A": "b", "VLLM_X": "1"}, e.Server.Env); diff != "" {
		t.Errorf("server env (-want +got):\n%s", diff)
	}
	if e.Server.GPUs != 2 || e.Server.BatchSize != 32 || e.Server.Engine != "vllm" || e.Server.Model != "m" {
		t.Errorf("server = %+v", e.Server)
	}
	if got := e.Load.Settings.ThinkTime.D(); got != time.Second {
		t.Errorf("think time = %v, want the factor's 1s over load's 5s", got)
	}
	if got := e.Load.Settings.RunTime.D(); got != 30*time.Second {
		t.Errorf("run time = %v, want 30s", got)
	}
}

func TestExpandGroupsByServer(t *testing.T) {
	t.Parallel()
	p := plan(t, "factors: {gpus: [1, 2, 4], tp: [1, 2, 4], dp: [1, 2, 4], users: [1, 2, 3], prompts: ['random:8', 'random:16']}")
	seen := map[string]bool{}
	prev := ""
	for i, e := range p.Experiments {
		if e.Index != i+1 {
			t.Fatalf("experiment %d has index %d", i, e.Index)
		}
		if e.Server.ID != prev {
			if seen[e.Server.ID] {
				t.Fatalf("server %s comes back after another one: it would start twice", e.Server.ID)
			}
			seen[e.Server.ID] = true
			prev = e.Server.ID
		}
	}
	if len(seen) != len(p.Servers) {
		t.Errorf("experiments use %d servers, plan lists %d", len(seen), len(p.Servers))
	}
	if len(p.Servers) != 6 {
		t.Errorf("got %d valid server configurations, want 6 (1; 1×2, 2×1; 1×4, 2×2, 4×1)", len(p.Servers))
	}
}

func TestExpandIsStable(t *testing.T) {
	t.Parallel()
	yaml := "factors: {gpus: [1, 2], tp: [1, 2], dp: [1, 2], users: [5, 50], prompts: ['random:8']}\nrepeats: 2"
	a, b := plan(t, yaml), plan(t, yaml)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("two expansions differ:\n%s", diff)
	}
	seen := map[string]bool{}
	for _, id := range ids(a) {
		if seen[id] {
			t.Fatalf("id %s appears twice", id)
		}
		seen[id] = true
	}
}

func TestEstimate(t *testing.T) {
	t.Parallel()
	p := plan(t, `factors: {tp: [1, 2], users: [1, 2], prompts: ['random:8']}
load: {run_time: 60s, warmup: 10s, cooldown: 5s}
server: {startup_estimate: 30s}`)
	// 4 experiments × 75 s + 2 server starts × 30 s.
	if want := 4*75*time.Second + 2*30*time.Second; p.Estimate.Wall != want {
		t.Errorf("wall = %v, want %v", p.Estimate.Wall, want)
	}
	// GPU-seconds: 2 × 75 × 1 GPU + 2 × 75 × 2 GPUs + 30 × 1 + 30 × 2.
	if want := (150.0 + 300 + 30 + 60) / 3600; abs(p.Estimate.GPUHours-want) > 1e-9 {
		t.Errorf("GPU-hours = %g, want %g", p.Estimate.GPUHours, want)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestExpandRuleErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml, want string }{
		{"unknown variable", `rules: {require: ["gpu == 1"]}`, `unknown name gpu`},
		{"not a boolean", `rules: {require: ["tp + 1"]}`, `rule "tp + 1"`},
		{"unknown factor in a map", `rules: {exclude: [{tpp: 2}]}`, `"tpp" is not a factor of this matrix`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := spec.Parse([]byte("factors: {prompts: ['random:8']}\n"+tt.yaml), "t.yaml", matrixDir)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			_, err = Expand(l)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Expand error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestPromptsWithOutputLength: random:IN:OUT sets the output length, so the experiment is
// labelled with it, and the max_tokens factor (which cannot apply) makes no duplicates.
func TestPromptsWithOutputLength(t *testing.T) {
	t.Parallel()
	p := plan(t, "engine: sim\nfactors: {users: [4], prompts: ['random:16:8', 'random:16'], max_tokens: [32, 64]}")
	var got []string
	for _, e := range p.Experiments {
		got = append(got, fmt.Sprintf("%s=%d", e.Load.PromptSet, e.Load.MaxTokens))
	}
	want := []string{"random:16:8=8", "random:16=32", "random:16=64"}
	if !slices.Equal(got, want) || len(p.Skipped) != 1 || !strings.Contains(p.Skipped[0].Reason, "max_tokens does not apply") {
		t.Fatalf("experiments %v, skipped %+v; want %v and one skipped", got, p.Skipped, want)
	}
}
