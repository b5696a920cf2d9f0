package server

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	goldenfile "github.com/llmscale/llmscale/internal/golden"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

func config(engine string, tp, dp int) matrix.ServerConfig {
	s := spec.Spec{Engine: engine}
	s.ApplyDefaults("m.yaml")
	return matrix.ServerConfig{
		Engine: engine, Model: "org/Model-8B", GPUs: tp * dp, TP: tp, DP: dp, PP: 1, BatchSize: 128, MBT: 4096,
		Args: []string{"--extra", "x y"}, Env: map[string]string{"HF_HOME": "/cache"}, Settings: s.Server,
	}
}

// TestCommandGolden pins the exact command line of every engine.
func TestCommandGolden(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	cases := []struct {
		name string
		sc   matrix.ServerConfig
	}{
		{"vllm tp2 dp2", config(spec.EngineVLLM, 2, 2)},
		{"sglang tp2 dp2", config(spec.EngineSGLang, 2, 2)},
		{"llamacpp tp2 dp2 (replicas)", config(spec.EngineLlamaCpp, 2, 2)},
		{"sim tp1 dp4", config(spec.EngineSim, 1, 4)},
	}
	pp := config(spec.EngineVLLM, 2, 1)
	pp.PP, pp.GPUs, pp.BatchSize, pp.MBT = 2, 4, 0, 0
	cases = append(cases, struct {
		name string
		sc   matrix.ServerConfig
	}{"vllm tp2 pp2, engine defaults for the batch caps", pp})
	for _, c := range cases {
		b.WriteString("# " + c.name + "\n")
		for _, in := range Plan(c.sc, 8000) {
			cmd, err := BuildCommand(c.sc, in, "/usr/bin/llmscale")
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			b.WriteString(cmd.String() + "\n")
		}
	}
	golden(t, "commands.golden", b.String())
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), []byte(got), *update)
}

func TestPlanReplicas(t *testing.T) {
	t.Parallel()
	sc := config(spec.EngineVLLM, 2, 3)
	sc.Settings.Replicas = true
	sc.Settings.Devices = []int{4, 5, 6, 7, 0, 1}
	want := []Instance{
		{Port: 9000, Devices: []int{4, 5}, TP: 2, DP: 1},
		{Port: 9001, Devices: []int{6, 7}, TP: 2, DP: 1},
		{Port: 9002, Devices: []int{0, 1}, TP: 2, DP: 1},
	}
	if diff := cmp.Diff(want, Plan(sc, 9000)); diff != "" {
		t.Errorf("replicas (-want +got):\n%s", diff)
	}
	sc.Settings.Replicas = false
	if diff := cmp.Diff([]Instance{{Port: 9000, Devices: []int{4, 5, 6, 7, 0, 1}, TP: 2, DP: 3}}, Plan(sc, 9000)); diff != "" {
		t.Errorf("native dp (-want +got):\n%s", diff)
	}
}

func TestCommandTemplate(t *testing.T) {
	t.Parallel()
	sc := config(spec.EngineCommand, 2, 1)
	sc.Args = nil
	sc.Model = "m; rm -rf / $(id)"
	sc.Settings.Command = []string{"my-server", "--port={port}", "--tp", "{tp}", "--model", "{model}", "--gpus={devices}"}
	cmd, err := BuildCommand(sc, Plan(sc, 7000)[0], "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"my-server", "--port=7000", "--tp", "2", "--model", "m; rm -rf / $(id)", "--gpus=0,1"}
	if diff := cmp.Diff(want, cmd.Argv); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"{nope}", "{port"} {
		sc.Settings.Command = []string{"x", bad}
		if _, err := BuildCommand(sc, Plan(sc, 7000)[0], ""); err == nil {
			t.Errorf("template %q: no error", bad)
		}
	}
}

func TestExternalStartsNothing(t *testing.T) {
	t.Parallel()
	if _, err := BuildCommand(config(spec.EngineExternal, 1, 1), Instance{}, ""); err == nil {
		t.Fatal("engine external built a command")
	}
}
