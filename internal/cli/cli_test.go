package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/llmscale/llmscale/internal/golden"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/spec"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// result is what one in-process run of llmscale produced.
type result struct {
	code           int
	stdout, stderr string
}

// run calls Main in-process with its own environment; dir is the working directory.
func run(t *testing.T, dir string, environ map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := Env{
		Args:   args,
		Getenv: func(k string) string { return environ[k] },
		Dir:    dir,
		Stdin:  strings.NewReader(""),
		Stdout: &stdout,
		Stderr: &stderr,
		Now:    func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) },
	}
	code := Main(context.Background(), env)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// repoRoot is the working directory for tests that use the shipped config/.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestPlanGolden(t *testing.T) {
	t.Parallel()
	r := run(t, repoRoot(t), nil, "plan", "--matrix", "testdata/matrix/golden.good.yaml")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	golden(t, "plan.golden", r.stdout)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), []byte(got), *update)
}

func TestPlanDefaultMatrix(t *testing.T) {
	t.Parallel()
	r := run(t, repoRoot(t), nil, "plan")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"llama3-8b-scaling_G1_TP1_DP1_U16_short_O128_B256_MBT8192",
		"llama3-8b-scaling_G8_TP2_DP4_U256_long_O128_B256_MBT8192",
		"on 9 server configurations",
		`excluded by rules.exclude[0] gpus == 8 && tp == 4`,
		`rule "tp * dp * pp == gpus" is false`,
		"GPU-hours",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}
}

// planIDs runs plan --json and returns the experiment ids and overrides.
func planJSONOf(t *testing.T, dir string, environ map[string]string, args ...string) planJSON {
	t.Helper()
	r := run(t, dir, environ, append([]string{"plan", "--json"}, args...)...)
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	var p planJSON
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan --json is not JSON: %v\n%s", err, r.stdout)
	}
	return p
}

// TestPrecedence checks flags > environment > .env > matrix file > defaults, one layer at a time.
func TestPrecedence(t *testing.T) {
	t.Parallel()
	matrixWith := "engine: sim\nfactors:\n  users: [16]\n  prompts: ['random:8']\n"
	matrixWithout := "engine: sim\nfactors:\n  prompts: ['random:8']\n"
	tests := []struct {
		name      string
		matrix    string
		dotenv    string
		environ   map[string]string
		args      []string
		wantUsers int
		wantFrom  string
	}{
		{"default", matrixWithout, "", nil, nil, 10, ""},
		{"matrix over default", matrixWith, "", nil, nil, 16, ""},
		{".env over matrix", matrixWith, "USERS=5\n", nil, nil, 5, ".env USERS"},
		{"environment over .env", matrixWith, "USERS=5\n", map[string]string{"USERS": "7"}, nil, 7, "environment variable USERS"},
		{"flag over environment", matrixWith, "USERS=5\n", map[string]string{"USERS": "7"}, []string{"--set", "factors.users=9"}, 9, "--set factors.users=9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write(t, filepath.Join(dir, "m.yaml"), tt.matrix)
			if tt.dotenv != "" {
				write(t, filepath.Join(dir, ".env"), tt.dotenv)
			}
			p := planJSONOf(t, dir, tt.environ, append([]string{"-m", "m.yaml"}, tt.args...)...)
			if got := p.Experiments[0].Load.Users; got != tt.wantUsers || len(p.Experiments) != 1 {
				t.Errorf("users = %d in %d experiments, want %d in 1", got, len(p.Experiments), tt.wantUsers)
			}
			from := ""
			for _, o := range p.Overrides {
				if o.Key == "factors.users" {
					from = o.From
				}
			}
			if from != tt.wantFrom {
				t.Errorf("factors.users set by %q, want %q", from, tt.wantFrom)
			}
		})
	}
}

func TestSeedVariables(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "m.yaml"), "engine: vllm\nmodel: from-file\nfactors: {concurrency: [4], prompts: ['random:8']}\n")
	write(t, filepath.Join(dir, "p.txt"), "one prompt\n")
	p := planJSONOf(t, dir, map[string]string{
		"VLLM_MODEL": "org/env-model", "USERS": "3,30", "SPAWN": "5", "RUN_TIME": "2m",
		"PROMPTS_FILE": "p.txt", "MAX_TOKENS": "64", "TP": "2", "DP": "1,2", "BATCH_SIZE": "32", "MBT": "4096",
	}, "-m", "m.yaml")
	if len(p.Experiments) != 4 {
		t.Fatalf("got %d experiments, want 2 users × 2 dp = 4", len(p.Experiments))
	}
	e := p.Experiments[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"model", e.Server.Model, "org/env-model"},
		{"mode (USERS replaces the file's concurrency)", e.Load.Mode, loadspec.ModeUsers},
		{"spawn rate", e.Load.Settings.SpawnRate, 5.0},
		{"run time", e.Load.Settings.RunTime.D(), 2 * time.Minute},
		{"prompts file, relative to the working directory", e.Load.Prompts.Path, filepath.Join(dir, "p.txt")},
		{"max tokens", e.Load.MaxTokens, 64},
		{"tp", e.Server.TP, 2},
		{"batch size", e.Server.BatchSize, 32},
		{"mbt", e.Server.MBT, 4096},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "bad.yaml"), "engine: sim\nfactors:\n  usres: [1]\n")
	write(t, filepath.Join(dir, "good.yaml"), "engine: sim\nfactors: {prompts: ['random:8']}\n")
	tests := []struct {
		name    string
		environ map[string]string
		dotenv  string
		args    []string
		code    int
		stderr  []string
	}{
		{"bad matrix", nil, "", []string{"plan", "-m", "bad.yaml"}, ExitInvalidMatrix,
			[]string{`bad.yaml:3:3: factors.usres: unknown key "usres" (did you mean "users"?)`, "hint: docs/matrix.md"}},
		{"missing matrix", nil, "", []string{"plan", "-m", "none.yaml"}, ExitInvalidMatrix,
			[]string{"matrix none.yaml:", "no such file", "hint: give a matrix with --matrix FILE"}},
		{"bad environment value", map[string]string{"USERS": "many"}, "", []string{"plan", "-m", "good.yaml"}, ExitInvalidMatrix,
			[]string{`environment variable USERS: "many" is not a whole number`}},
		{"bad --set key", nil, "", []string{"plan", "-m", "good.yaml", "--set", "factors.usrs=1"}, ExitInvalidMatrix,
			[]string{`--set factors.usrs=1: unknown key "usrs" (did you mean "users"?)`}},
		{"--set without =", nil, "", []string{"plan", "-m", "good.yaml", "--set", "users"}, ExitUsage,
			[]string{`--set "users": want key=value`}},
		{"unknown flag", nil, "", []string{"plan", "--nope"}, ExitUsage, []string{"unknown flag: --nope", "llmscale plan --help"}},
		{"unknown command", nil, "", []string{"plna"}, ExitUsage, []string{`unknown command "plna" (did you mean "plan"?)`, "llmscale --help"}},
		{"argument to a command that takes none", nil, "", []string{"plan", "extra"}, ExitUsage,
			[]string{`unknown command "extra" for "llmscale plan"`, "llmscale plan --help"}},
		{"single without a model", nil, "", []string{"single"}, ExitInvalidMatrix,
			[]string{"model: no model is given", "see `llmscale single --help`"}},
		{"--only matching nothing", nil, "", []string{"run", "-m", "good.yaml", "--only", "*_G8_*", "--results", "none"}, ExitUsage,
			[]string{`--only "*_G8_*" matches no experiment of the plan (ids look like good_G1_TP1_DP1_U10_rand8_O128`, "llmscale plan"}},
		{"--only malformed", nil, "", []string{"run", "-m", "good.yaml", "--only", "[", "--results", "none"}, ExitUsage,
			[]string{`--only "[": syntax error in pattern`}},
		{"--server unknown", nil, "", []string{"run", "-m", "good.yaml", "--server", "G9", "--dry-run"}, ExitUsage,
			[]string{`--server "G9" is not a server configuration of the plan (it has G1_TP1_DP1)`}},
		{"negative --resamples", nil, "", []string{"fit", "--resamples", "-5", "--results", "none"}, ExitUsage,
			[]string{"--resamples -5: want 0 (the default, 2000) or at least 100"}},
		{"too few --resamples", nil, "", []string{"report", "--resamples", "1", "--results", "none"}, ExitUsage,
			[]string{"--resamples 1: want 0"}},
		{"two experiment ids", nil, "", []string{"single", "a", "b"}, ExitUsage, []string{"accepts at most 1 arg", "llmscale single --help"}},
		{"report without results", nil, "", []string{"report", "--results", "none"}, ExitUsage,
			[]string{"none: no such file or directory", "hint: is", "a results folder?"}},
		{"LLMSCALE_MATRIX from .env", nil, "LLMSCALE_MATRIX=bad.yaml\n", []string{"plan"}, ExitInvalidMatrix,
			[]string{`bad.yaml:3:3`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wd := dir
			if tt.dotenv != "" {
				wd = t.TempDir()
				write(t, filepath.Join(wd, ".env"), tt.dotenv)
				write(t, filepath.Join(wd, "bad.yaml"), "engine: sim\nfactors:\n  usres: [1]\n")
			}
			r := run(t, wd, tt.environ, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	r := run(t, t.TempDir(), nil, "--help")
	if r.code != ExitOK {
		t.Fatalf("exit %d", r.code)
	}
	for _, cmd := range []string{"plan", "run", "single", "load", "sim", "aggregate", "fit", "diagnose", "report"} {
		if !strings.Contains(r.stdout, "  "+cmd) {
			t.Errorf("--help does not list %s:\n%s", cmd, r.stdout)
		}
	}
}

// TestEnvExampleDocumentsEveryVariable keeps env.example and spec.EnvVars in step.
func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range spec.EnvVars() {
		if !strings.Contains(string(data), "#"+v.Name+"=") {
			t.Errorf("env.example does not document %s (%s)", v.Name, v.Doc)
		}
	}
}
