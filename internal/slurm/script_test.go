package slurm

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	goldenfile "github.com/llmscale/llmscale/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), []byte(got), *update)
}

func exampleScript() Script {
	return Script{
		JobName: "llmscale-llama3-8b-scaling-G4_TP2_DP2", Output: "/shared/results/slurm/G4_TP2_DP2-%j.out",
		WorkDir: "/shared/project", Partition: "gpu", Account: "proj-42", TimeLimit: "04:00:00",
		CPUsPerTask: 32, Mem: "256G", GPUs: 4, GPUFlag: GPUFlagGres, Extra: []string{"--qos=high", "--exclusive"},
		Comment: []string{"llmscale campaign llama3-8b-scaling, server configuration G4_TP2_DP2"},
		Setup:   []string{"module load cuda/12.4", "source /shared/venvs/vllm/bin/activate"},
		Command: []string{"/shared/bin/llmscale", "run", "--matrix", "/shared/project/m.yaml", "--results",
			"/shared/results", "--no-analysis", "--executor", "local", "--set", "load.run_time=2m",
			"--only", "*_U64_*", "--server", "G4_TP2_DP2"},
	}
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	got, err := Render(exampleScript())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "job.sbatch.golden", got)
}

func TestRenderGPUs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag         string
		gpus, nodes  int
		want, absent string
	}{
		{GPUFlagGres, 4, 1, "#SBATCH --gres=gpu:4\n", "--gpus"},
		{GPUFlagGres, 16, 2, "#SBATCH --gres=gpu:8\n", "--gpus"}, // --gres is per node
		{GPUFlagGPUs, 16, 2, "#SBATCH --gpus=16\n", "--gres"},
		{GPUFlagNone, 4, 1, "#SBATCH --nodes=1\n", "--g"},
		{GPUFlagGres, 0, 1, "#SBATCH --nodes=1\n", "--g"},
	} {
		s := exampleScript()
		s.GPUFlag, s.GPUs, s.Nodes, s.Extra = tc.flag, tc.gpus, tc.nodes, nil
		got, err := Render(s)
		if err != nil {
			t.Fatal(err)
		}
		header, _, _ := strings.Cut(got, "# llmscale")
		if !strings.Contains(got, tc.want) || strings.Contains(header, tc.absent) {
			t.Errorf("%s, %d GPUs on %d nodes: want %q and no %q in\n%s", tc.flag, tc.gpus, tc.nodes, tc.want, tc.absent, header)
		}
	}
}

// Values from the matrix end up in #SBATCH lines, which sbatch reads with its own quoting,
// and in comments, which end at a line break: anything that could add an option or a line is
// refused.
func TestRenderRefusesUnsafeValues(t *testing.T) {
	t.Parallel()
	for name, mutate := range map[string]func(*Script){
		"partition with a blank":    func(s *Script) { s.Partition = "gpu --wrap=id" },
		"partition with a newline":  func(s *Script) { s.Partition = "gpu\nrm -rf /" },
		"account with a quote":      func(s *Script) { s.Account = `a" --uid=0 "` },
		"time with a semicolon":     func(s *Script) { s.TimeLimit = "1:00;id" },
		"mem with a dollar":         func(s *Script) { s.Mem = "$(id)" },
		"output with a blank":       func(s *Script) { s.Output = "/my results/x-%j.out" },
		"work dir with a backtick":  func(s *Script) { s.WorkDir = "/tmp/`id`" },
		"extra with two options":    func(s *Script) { s.Extra = []string{"--qos=high --uid=0"} },
		"extra not an option":       func(s *Script) { s.Extra = []string{"id"} },
		"extra with a newline":      func(s *Script) { s.Extra = []string{"--qos=a\nid"} },
		"setup with a newline":      func(s *Script) { s.Setup = []string{"module load x\n#SBATCH --uid=0"} },
		"comment with a CR":         func(s *Script) { s.Comment = []string{"x\r#SBATCH --uid=0"} },
		"command with a NUL":        func(s *Script) { s.Command = []string{"llmscale", "a\x00b"} },
		"no command":                func(s *Script) { s.Command = nil },
		"unknown gpu flag":          func(s *Script) { s.GPUFlag = "both" },
		"job name with a newline":   func(s *Script) { s.JobName = "a\nb" },
		"job name empty":            func(s *Script) { s.JobName = "" },
		"extra quoting its value":   func(s *Script) { s.Extra = []string{`--comment="a b"`} },
		"extra with a shell dollar": func(s *Script) { s.Extra = []string{"--comment=$(id)"} },
	} {
		s := exampleScript()
		mutate(&s)
		if got, err := Render(s); !errors.Is(err, ErrUnsafe) {
			t.Errorf("%s: got err %v, want ErrUnsafe; script:\n%s", name, err, got)
		}
	}
}

// nasty are words a matrix or a flag may hold: each must reach llmscale exactly as it is.
var nasty = []string{
	"", "plain", "with space", "it's", `"double"`, "$(id)", "`id`", "a;b", "a&&b", "a|b", "x > /tmp/f",
	"new\nline", "tab\there", "*_G4_*", "~root", "#comment", "!bang", "back\\slash", "'", "''", `'\''`,
	"load.run_time=2m", "factors.users=1,2", "ünïcödé", "$HOME", "${HOME}", "a\\", "-n", "--set=x",
}

// TestQuoteRoundTripInBash runs the quoted words through bash and checks it reads each back
// as exactly the original.
func TestQuoteRoundTripInBash(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := `for a in "$@"; do printf '%s\0' "$a"; done`
	line := "set -- " + QuoteArgs(nasty) + "\n" + script
	out, err := exec.Command(bash, "-c", line).Output()
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if diff := cmp.Diff(nasty, got); diff != "" {
		t.Errorf("words after bash (-want +got):\n%s", diff)
	}
}

// TestScriptRunsCommandVerbatim runs a whole rendered batch script with bash, its command
// replaced by printf: the words reach the command exactly, whatever they hold.
func TestScriptRunsCommandVerbatim(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	s := exampleScript()
	s.Setup = nil
	s.Command = append([]string{"printf", `%s\0`}, nasty...)
	text, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "job.sbatch")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bash, path).Output()
	if err != nil {
		t.Fatalf("bash %s: %v\n%s", path, err, text)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if diff := cmp.Diff(nasty, got); diff != "" {
		t.Errorf("words the command got (-want +got):\n%s", diff)
	}
}

// unquote reads one word of the two forms Quote writes: a safe word, or single quotes where
// '\” stands for a quote. It fails on anything else.
func unquote(w string) (string, bool) {
	if safeWord.MatchString(w) {
		return w, true
	}
	var b strings.Builder
	for len(w) > 0 {
		switch {
		case strings.HasPrefix(w, `\'`):
			b.WriteByte('\'')
			w = w[2:]
		case w[0] == '\'':
			end := strings.IndexByte(w[1:], '\'')
			if end < 0 {
				return "", false
			}
			b.WriteString(w[1 : 1+end])
			w = w[2+end:]
		default:
			return "", false
		}
	}
	return b.String(), true
}

func FuzzQuote(f *testing.F) {
	for _, s := range nasty {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Quote(s)
		back, ok := unquote(q)
		if !ok || back != s {
			t.Fatalf("Quote(%q) = %q reads back as %q (%v)", s, q, back, ok)
		}
	})
}

func TestOutputPath(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]string{
		"/r/slurm/G1-%j.out": "/r/slurm/G1-42.out", "/r/100%%/G1-%j.out": "/r/100%/G1-42.out", "/r/x%": "/r/x%",
	} {
		if got := OutputPath(pattern, "42"); got != want {
			t.Errorf("OutputPath(%q) = %q, want %q", pattern, got, want)
		}
	}
	if got := OutputPath(EscapePercent("/r/50%")+"-%j.out", "7"); got != "/r/50%-7.out" {
		t.Errorf("escaped path: got %q", got)
	}
}
