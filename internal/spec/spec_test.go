package spec

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/llmscale/llmscale/internal/loadspec"
)

func parse(t *testing.T, yaml string, overlays ...Overlay) *Loaded {
	t.Helper()
	l, err := Parse([]byte(yaml), "t.yaml", t.TempDir(), overlays...)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return l
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	l := parse(t, "factors: {prompts: ['random:8']}")
	checks := []struct {
		what      string
		got, want any
	}{
		{"campaign from the file name", l.Campaign, "t"},
		{"engine", l.Engine, EngineSim},
		{"model", l.Model, DefaultSimModel},
		{"api", l.API, loadspec.APICompletions},
		{"users", l.Factors.Users, []int{10}},
		{"tp", l.Factors.TP, []int{1}},
		{"run time", l.Load.RunTime.D(), time.Minute},
		{"seed", *l.Load.Seed, int64(1)},
		{"ignore_eos", *l.Load.IgnoreEOS, true},
		{"repeats", l.Repeats, 1},
		{"no rule without a gpus factor", len(l.Rules.Require), 0},
		{"simulator picks a free port", l.Server.Port, 0},
		{"simulator starts within a minute", l.Server.StartupTimeout.D(), time.Minute},
		{"client", l.Load.Client, "auto"},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.what, diff)
		}
	}
	if got := parse(t, "engine: vllm\nmodel: m\nfactors: {gpus: [1], prompts: ['random:8']}"); got.Server.Port != 8000 ||
		got.Rules.Require[0] != DefaultRequire {
		t.Errorf("vllm defaults: port %d, rules %v", got.Server.Port, got.Rules.Require)
	}
	for engine, want := range map[string]time.Duration{"vllm": 20 * time.Minute, "external": 2 * time.Minute} {
		if got := parse(t, "engine: "+engine+"\nhost: http://h:8000\nmodel: m\nfactors: {prompts: ['random:8']}"); got.Server.StartupTimeout.D() != want {
			t.Errorf("%s: startup timeout %v, want %v", engine, got.Server.StartupTimeout.D(), want)
		}
	}
}

func TestOverlaySetsTypedValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := parse(t, "factors: {concurrency: [4], prompts: ['random:8']}\nload: {seed: 3}", Overlay{Dir: dir, Settings: []Setting{
		{Key: "factors.users", Value: "1, 2", From: "a"},
		{Key: "load.run_time", Value: "90s", From: "c"},
		{Key: "load.seed", Value: "9", From: "d"},
		{Key: "load.ignore_eos", Value: "false", From: "e"},
		{Key: "server.sim.speedup", Value: "2.5", From: "f"},
		{Key: "factors.server_args.--x", Value: "1,2", From: "g"},
	}})
	if diff := cmp.Diff([]int{1, 2}, l.Factors.Users); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if len(l.Factors.Concurrency) != 0 {
		t.Errorf("concurrency = %v, want cleared by users", l.Factors.Concurrency)
	}
	if l.Load.RunTime.D() != 90*time.Second || *l.Load.Seed != 9 || *l.Load.IgnoreEOS || l.Server.Sim.Speedup != 2.5 {
		t.Errorf("load = %+v, sim = %+v", l.Load, l.Server.Sim)
	}
	if diff := cmp.Diff([]Level{"1", "2"}, l.Factors.ServerArgs["--x"]); diff != "" {
		t.Errorf("server args (-want +got):\n%s", diff)
	}
	if got := l.Overrides(); len(got) != 6 || got[0].Key != "factors.server_args.--x" {
		t.Errorf("overrides = %v", got)
	}
}

func TestOverlayErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ key, value, want string }{
		{"factors.users", "ten", `x: "ten" is not a whole number`},
		{"load.run_time", "soon", `x: "soon" is not a duration`},
		{"load.ignore_eos", "perhaps", `x: "perhaps" is not true or false`},
		{"factors.usres", "1", `x: unknown key "usres" (did you mean "users"?)`},
		{"load.spawn_rate", "fast", `x: "fast" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte("engine: sim"), "t.yaml", t.TempDir(), Overlay{Settings: []Setting{{Key: tt.key, Value: tt.value, From: "x"}}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestProblemNamesOverride(t *testing.T) {
	t.Parallel()
	for _, file := range []string{
		"factors: {prompts: ['random:8']}",
		// The file's own tp levels are replaced: the problem is the override's, not line 2's.
		"factors:\n  tp: [1, 2]\n  prompts: ['random:8']",
	} {
		_, err := Parse([]byte(file), "t.yaml", t.TempDir(),
			Overlay{Settings: []Setting{{Key: "factors.tp", Value: "0", From: "environment variable TP"}}})
		want := "factors.tp[0]: must be at least 1, got 0 (set by environment variable TP)"
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "t.yaml:2") {
			t.Errorf("file %q: error = %v, want %q without the file's position", file, err, want)
		}
	}
}

func TestAbsPaths(t *testing.T) {
	t.Parallel()
	got := absPaths("a.txt, short, random:8:2, /abs/b.json, sub/c.json", "/wd")
	if want := "/wd/a.txt,short,random:8:2,/abs/b.json,/wd/sub/c.json"; got != want {
		t.Errorf("absPaths = %q, want %q", got, want)
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	fields := yamlFields(factorsType)
	for key, want := range map[string]string{
		"usres":      `did you mean "users"?`,
		"batchsize":  `did you mean "batch_size"?`,
		"Users":      `did you mean "users"?`,
		"completely": "known keys: batch_size, concurrency,",
	} {
		if got := suggest(key, fields); !strings.HasPrefix(got, want) {
			t.Errorf("suggest(%q) = %q, want prefix %q", key, got, want)
		}
	}
}

func TestTelemetryGPUValues(t *testing.T) {
	t.Parallel()
	for gpu, ok := range map[string]bool{"auto": true, "nvidia-smi": true, "nvml": true, "dcgm": false, "none": true, "NVML": false} {
		_, err := Parse([]byte("factors: {prompts: ['random:8']}\ntelemetry: {gpu: "+gpu+"}"), "t.yaml", t.TempDir())
		if (err == nil) != ok {
			t.Errorf("telemetry.gpu %s: %v", gpu, err)
		}
	}
}

// TestDefaultPromptsMissing: without factors.prompts the default set "short" is looked for
// beside the matrix; when it is missing, the problem says so and points at no line of the file
// (it used to point at whatever factor came first).
func TestDefaultPromptsMissing(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte("engine: sim\nfactors:\n  users: [1]\n"), "t.yaml", t.TempDir())
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`factors.prompts: not given, so the default set "short" is used`, "prompts_short.txt", `"random:512:128"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if regexp.MustCompile(`t\.yaml:\d`).MatchString(err.Error()) {
		t.Errorf("error points at a line of the file:\n%v", err)
	}
}
