package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

// runStdin is runCLI with stdin and a prompt file; it returns the working directory too.
func runStdin(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr, dir string) {
	t.Helper()
	var out, errOut bytes.Buffer
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.txt"), []byte("Hello there.\nWhat is Go?\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := Env{Args: args, Getenv: func(k string) string { return env[k] }, Dir: dir, Stdin: strings.NewReader(stdin),
		Stdout: &out, Stderr: &errOut, Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}
	code = Main(context.Background(), e)
	return code, out.String(), errOut.String(), dir
}

// TestLoadConfig: `load --config` runs the load the JSON gives, from a file or stdin, and the
// environment's load settings do not leak into it (only the API key does).
func TestLoadConfig(t *testing.T) {
	t.Parallel()
	for _, fromStdin := range []bool{false, true} {
		h := &streamHandler{tokens: 3}
		srv := httptest.NewServer(h)
		l := loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeConcurrency, Concurrency: 2},
			Targets: []string{srv.URL}, API: loadspec.APICompletions, Model: "m1", PromptSet: "p.txt", MaxTokens: 3,
			RunTime: 300 * time.Millisecond, Timeout: 5 * time.Second, StallTimeout: time.Second, Grace: time.Second,
			Burstiness: 1, Arrival: "poisson", Seed: 7, ExperimentID: "from-json", WorkerCount: 1}
		var b bytes.Buffer
		if err := loadspec.Encode(&b, l); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"USERS": "9", "RUN_TIME": "1h", "OPENAI_API_KEY": "sk-x"}
		args, stdin := []string{"load", "--config", "-", "--out", "out", "--quiet"}, b.String()
		if !fromStdin {
			args[2], stdin = filepath.Join(t.TempDir(), "load-spec.json"), ""
			if err := os.WriteFile(args[2], b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		code, out, errOut, dir := runStdin(t, env, stdin, args...)
		srv.Close()
		if code != ExitOK {
			t.Fatalf("stdin %v: exit %d\nstdout:\n%s\nstderr:\n%s", fromStdin, code, out, errOut)
		}
		rows, err := results.ReadRequests(filepath.Join(dir, "out", "requests.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.ExperimentID != "from-json" || r.User > 1 {
				t.Fatalf("record %+v: want exp_id from-json and two slots", r)
			}
		}
		if len(h.seen) == 0 || h.seen[0]["model"] != "m1" {
			t.Errorf("stdin %v: requests %v, want model m1", fromStdin, h.seen)
		}
		if !strings.Contains(out, "2 requests in flight") {
			t.Errorf("stdin %v: stdout lacks the JSON's concurrency:\n%s", fromStdin, out)
		}
	}
}

// TestLoadConfigRefuses: a flag that sets the load beside --config, and a bad file, are usage
// errors naming both sources or the key.
func TestLoadConfigRefuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, stdin string
		args        []string
		want        []string
	}{
		{"flag and config", `{"mode":"users","users":1}`, []string{"--users", "5", "--run-time", "1s"},
			[]string{"--run-time, --users and --config - both set the load"}},
		{"unknown key", `{"mode":"users","users":1,"user":2}`, nil, []string{"(stdin)", `unknown field "user"`}},
		{"zero level", `{"mode":"rate","rate":0}`, nil, []string{"rate must be above 0"}},
		{"empty", ``, nil, []string{"(stdin)", "empty"}},
		{"zero timeout", `{"mode":"users","users":1,"timeout":"0s"}`, nil, []string{"timeout must be above 0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"load", "--config", "-", "--out", "out"}, tt.args...)
			code, _, errOut, _ := runStdin(t, nil, tt.stdin, args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d (usage)\n%s", code, ExitUsage, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
	code, _, errOut, _ := runStdin(t, nil, "", "load", "--config", "missing.json")
	if code != ExitUsage || !strings.Contains(errOut, "missing.json") {
		t.Errorf("a missing file: exit %d\n%s", code, errOut)
	}
}
