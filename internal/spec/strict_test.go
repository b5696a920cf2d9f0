package spec

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestZeroIsHonouredOrRefused: a value given as 0 is never replaced by the default. Where 0
// means something it stays 0; where it cannot, Parse names the key.
func TestZeroIsHonouredOrRefused(t *testing.T) {
	t.Parallel()
	base := "factors: {prompts: ['random:8']}\n"
	honoured := []struct {
		name, yaml string
		get        func(*Loaded) time.Duration
	}{
		{"no warm-up", "load: {warmup: 0s}", func(l *Loaded) time.Duration { return l.Load.Warmup.D() }},
		{"no cool-down", "load: {cooldown: 0s}", func(l *Loaded) time.Duration { return l.Load.Cooldown.D() }},
		{"no grace", "load: {grace: 0s}", func(l *Loaded) time.Duration { return l.Load.Grace.D() }},
		{"no grace, bare 0", "load: {grace: 0}", func(l *Loaded) time.Duration { return l.Load.Grace.D() }},
		{"no stop grace", "server: {stop_grace: 0s}", func(l *Loaded) time.Duration { return l.Server.StopGrace.D() }},
	}
	for _, tt := range honoured {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.get(parse(t, base+tt.yaml)); got != 0 {
				t.Errorf("%s: got %v, want 0 (the value given)", tt.yaml, got)
			}
		})
	}
	refused := []struct{ name, yaml, want string }{
		{"run_time 0", "load: {run_time: 0s}", "load.run_time: must be above 0"},
		{"timeout 0", "load: {timeout: 0s}", "load.timeout: must be above 0"},
		{"stall_timeout 0", "load: {stall_timeout: 0s}", "load.stall_timeout: must be above 0"},
		{"repeats 0", "repeats: 0", "repeats: must be at least 1"},
		{"workers 0", "load: {workers: 0}", "load.workers: must be at least 1"},
		{"burstiness 0", "load: {burstiness: 0}", "load.burstiness: must be above 0"},
		{"connect_rate negative", "load: {connect_rate: -1}", "load.connect_rate: must not be negative"},
		{"start_ramp with spawn_rate", "load: {start_ramp: 2s, spawn_rate: 10}", "load.start_ramp: 2s conflicts with $.load.spawn_rate 10"},
		{"telemetry interval 0", "telemetry: {interval: 0s}", "telemetry.interval: must be above 0"},
		{"startup timeout 0", "server: {startup_timeout: 0s}", "server.startup_timeout: must be above 0"},
		{"speedup 0", "server: {sim: {speedup: 0}}", "server.sim.speedup: must be above 0"},
		{"api servers 0", "server: {sim: {api_server_count: 0}}", "server.sim.api_server_count: must be at least 1"},
		{"slurm nodes 0", "slurm: {nodes: 0}", "slurm.nodes: must be at least 1"},
		{"gpu memory 0", "server: {gpu_memory_utilization: 0}", "gpu_memory_utilization: 0 is not a fraction"},
		{"users 0", "factors: {users: [0], prompts: ['random:8']}", "factors.users[0]: must be at least 1"},
		{"max_tokens 0", "factors: {max_tokens: [0], prompts: ['random:8']}", "factors.max_tokens[0]: must be at least 1"},
		{"tp 0", "factors: {tp: [0], prompts: ['random:8']}", "factors.tp[0]: must be at least 1"},
		{"run_time level 0", "factors: {load: {run_time: [0s, 1m]}, prompts: ['random:8']}", "factors.load.run_time[0]: run_time must be above 0"},
		{"port 0 on vllm", "engine: vllm\nmodel: m\nserver: {port: 0}", "server.port: 0 is not a port"},
		{"pp on the simulator", "factors: {pp: [1, 2], prompts: ['random:8']}", "factors.pp[1]: engine sim cannot apply pipeline parallelism"},
		{"pp on llama.cpp", "engine: llamacpp\nmodel: m.gguf\nfactors: {pp: [2], prompts: ['random:8']}", "engine llamacpp cannot apply"},
		{"pp without a placeholder", "engine: command\nmodel: m\nserver: {command: [srv, --port, '{port}']}\nfactors: {pp: [2], prompts: ['random:8']}", "no {pp} placeholder"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			yaml := tt.yaml
			if !strings.Contains(yaml, "prompts") {
				yaml = base + yaml
			}
			_, err := Parse([]byte(yaml), "t.yaml", t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%q: got %v, want an error with %q", yaml, err, tt.want)
			}
		})
	}
}

func TestPipelineAllowedWhereApplied(t *testing.T) {
	t.Parallel()
	for _, yaml := range []string{
		"engine: vllm\nmodel: m\nfactors: {pp: [1, 2], prompts: ['random:8']}",
		"engine: sglang\nmodel: m\nfactors: {pp: [2], prompts: ['random:8']}",
		"engine: command\nmodel: m\nserver: {command: [srv, --pp, '{pp}']}\nfactors: {pp: [2], prompts: ['random:8']}",
	} {
		parse(t, yaml)
	}
}

func TestOverridesStrict(t *testing.T) {
	t.Parallel()
	base := "factors: {prompts: ['random:8']}\n"
	tests := []struct {
		name     string
		settings []Setting
		want     string // "" when the settings are accepted
		check    func(*Loaded) bool
	}{
		{"empty factor is refused", []Setting{{Key: "factors.users", Value: "", From: "--set"}}, "--set: the value is empty", nil},
		{"blank duration is refused", []Setting{{Key: "load.warmup", Value: "  ", From: "--set"}}, "load.warmup: --set: the value is empty", nil},
		{"warm-up 0 from --set is honoured", []Setting{{Key: "load.warmup", Value: "0s", From: "--set"}}, "",
			func(l *Loaded) bool { return l.Load.Warmup == 0 }},
		{"run time 0 from the environment is refused", []Setting{{Key: "load.run_time", Value: "0s", From: "environment variable RUN_TIME"}},
			"must be above 0, got 0s (set by environment variable RUN_TIME)", nil},
		{"users and rate from one source", []Setting{{Key: "factors.users", Value: "4", From: ".env USERS"},
			{Key: "factors.rate", Value: "2", From: ".env LLMSCALE_RATE"}}, ".env USERS (factors.users) and .env LLMSCALE_RATE (factors.rate) both set the load mode", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := Parse([]byte(base), "t.yaml", t.TempDir(), Overlay{Settings: tt.settings})
			if tt.want == "" {
				if err != nil || !tt.check(l) {
					t.Errorf("got error %v, want the settings applied", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// TestModesFromTwoSources: a higher source replaces a lower one's load mode; that is
// precedence, not a conflict.
func TestModesFromTwoSources(t *testing.T) {
	t.Parallel()
	l := parse(t, "factors: {rate: [2], prompts: ['random:8']}",
		Overlay{Settings: []Setting{{Key: "factors.users", Value: "4", From: ".env USERS"}}},
		Overlay{Settings: []Setting{{Key: "factors.concurrency", Value: "3", From: "environment variable LLMSCALE_CONCURRENCY"}}})
	if len(l.Factors.Rate) != 0 || len(l.Factors.Users) != 0 || len(l.Factors.Concurrency) != 1 {
		t.Errorf("factors = %+v, want concurrency only", l.Factors)
	}
}

// TestInputLimits: input far beyond a matrix fails at once with a short message.
func TestInputLimits(t *testing.T) {
	t.Parallel()
	deepFlow := "factors: {prompts: ['random:8']}\nx: " + strings.Repeat("[", 40000) + strings.Repeat("]", 40000) + "\n"
	var deepBlock strings.Builder
	deepBlock.WriteString("factors: {prompts: ['random:8']}\nx:\n")
	for i := range 200 {
		deepBlock.WriteString(strings.Repeat("  ", i+1) + "k:\n")
	}
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	garbage := strings.Repeat("garbage ", 2000)
	tests := []struct{ name, data, want string }{
		{"too large", "campaign: c\n# " + strings.Repeat("x", MaxMatrixBytes) + "\n", "over the limit of"},
		{"deep flow nesting", deepFlow, "nests deeper than 64 levels"},
		{"deep block nesting", deepBlock.String(), "nests deeper than 64 levels"},
		{"alias bomb", laughs, "aliases expand to more than"},
		{"binary", "campaign: \xff\xfe\x00\x01", "is not UTF-8 text"},
		{"garbage is quoted short", garbage, "more characters)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.data), "t.yaml", t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %.300v, want an error with %q", err, tt.want)
			}
			if len(err.Error()) > 600 {
				t.Errorf("the message is %d bytes long: %.200s…", len(err.Error()), err)
			}
		})
	}
}

func TestPlanCapBeforeExpanding(t *testing.T) {
	t.Parallel()
	levels := make([]string, 100)
	for i := range levels {
		levels[i] = strconv.Itoa(i + 1)
	}
	list := "[" + strings.Join(levels, ",") + "]"
	// 100 × 100 × 100 × 10 = 10⁷ candidates: refused at once, not after expanding them.
	yaml := "factors: {prompts: ['random:8'], users: " + list + ", max_tokens: " + list + ", batch_size: " + list + "}\nrepeats: 10\n"
	l, err := Parse([]byte(yaml), "t.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if l.MaxExperiments != DefaultMaxExperiments {
		t.Errorf("default cap %d, want %d", l.MaxExperiments, DefaultMaxExperiments)
	}
	if _, err := Parse([]byte(yaml+"max_experiments: 0\n"), "t.yaml", t.TempDir()); err == nil || !strings.Contains(err.Error(), "max_experiments: must be at least 1") {
		t.Errorf("max_experiments 0: %v", err)
	}
}

// TestPromptFilesCheckedAtPlan: a prompt file that would fail once the server is up fails
// when the matrix is read, naming the file and the line.
func TestPromptFilesCheckedAtPlan(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, content, want string }{
		{"empty", "", "holds no prompt: the file is empty"},
		{"separators only", "---\n---\n\n---\n", "holds no prompt: only 3 --- separators"},
		{"comments only", "# a header\n# another\n", "holds no prompt: only 2 comment lines"},
		{"latin-1", "What is a GPU?\nCaf\xe9 au lait?\n", "line 2 is not UTF-8 text"},
		{"binary", "PK\x03\x04\x00\x00 zip\n", "line 1 holds binary content (byte 0x03 at column 3)"},
		{"too long for the context", strings.Repeat("word ", 600) + "\n", "longer than the model's context (--max-model-len 256)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "p.txt"), []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			yaml := "factors: {prompts: [p.txt]}\nserver: {extra_args: [--max-model-len, '256']}\n"
			_, err := Parse([]byte(yaml), "t.yaml", dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "p.txt") {
				t.Errorf("got %v, want an error naming p.txt with %q", err, tt.want)
			}
		})
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "p.txt"), []byte("\ufeff# prompts\nWhat is a GPU?\r\nWhy?\r\n"), 0o644)
	if _, err := Parse([]byte("factors: {prompts: [p.txt]}\n"), "t.yaml", dir); err != nil {
		t.Errorf("a good file with a BOM and CRLF: %v", err)
	}
}

// TestPromptPathNotAFile: a device or a folder named as a prompt file is refused, not read
// forever (/dev/zero) or waited on (a pipe).
func TestPromptPathNotAFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "d.txt"), 0o755)
	for _, p := range []string{"/dev/zero", filepath.Join(dir, "d.txt")} {
		_, err := Parse([]byte("factors: {prompts: ['"+p+"']}\n"), "t.yaml", dir)
		if err == nil || !strings.Contains(err.Error(), "is not a regular file") {
			t.Errorf("%s: got %v", p, err)
		}
	}
}
