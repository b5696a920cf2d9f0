package spec

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSlurmSettings(t *testing.T) {
	t.Parallel()
	l := parse(t, "factors: {prompts: ['random:8']}")
	if l.Slurm.GPUFlag != "gres" || l.Slurm.Nodes != 1 || l.Slurm.Poll.D() != 10*time.Second {
		t.Errorf("defaults: %+v", l.Slurm)
	}
	if p := l.Validate(); len(p) != 0 {
		t.Errorf("defaults are invalid: %v", p)
	}
	for yaml, want := range map[string]string{
		"slurm: {gpu_flag: both}":                "slurm.gpu_flag",
		"slurm: {nodes: -1}":                     "slurm.nodes",
		"slurm: {poll: 10ms}":                    "slurm.poll",
		"slurm: {cpus_per_task: -2}":             "slurm.cpus_per_task",
		`slurm: {extra: ["--qos=high --uid=0"]}`: "slurm.extra[0]",
		`slurm: {extra: ["qos=high"]}`:           "slurm.extra[0]",
		"slurm: {setup: [\"a\\nb\"]}":            "slurm.setup[0]",
		"load: {workers: 3}\nfactors: {users: [2, 8], prompts: ['random:8']}": "load.workers",
	} {
		if !strings.Contains(yaml, "factors") {
			yaml += "\nfactors: {prompts: ['random:8']}"
		}
		_, err := Parse([]byte(yaml), "t.yaml", t.TempDir())
		if got := fmt.Sprint(err); !strings.Contains(got, want+":") {
			t.Errorf("%q: problems %q, want one about %s", yaml, got, want)
		}
	}
}
