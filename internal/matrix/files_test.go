package matrix

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/spec"
)

const matrixDir = "../../testdata/matrix"

// TestBadMatrices checks that every bad matrix in testdata gives every expected message, each
// with its line and column, and nothing else.
func TestBadMatrices(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string // substrings, one per problem, in file order
	}{
		{"typo.bad.yaml", []string{`:3:3: factors.usres: unknown key "usres" (did you mean "users"?)`}},
		{"wrongtype.bad.yaml", []string{`:3:11: factors.tp[1]: want a whole number, got text "two"`}},
		{"emptyfactor.bad.yaml", []string{`:3:10: factors.users: is empty`}},
		{"nullfactor.bad.yaml", []string{`:3:6: factors.dp: is empty`}},
		{"novalid.bad.yaml", []string{`factors: no combination is a valid experiment: 4 × rule "tp * dp * pp == gpus" is false`}},
		{"missingprompts.bad.yaml", []string{
			`:3:13: factors.prompts[0]: prompt file not found: `,
			`:3:24: factors.prompts[1]: prompt file not found: `,
		}},
		{"engine.bad.yaml", []string{`:1:9: engine: unknown value "tgi" (use one of: vllm, sglang, llamacpp, command, external, sim)`}},
		{"external.bad.yaml", []string{`host: engine external needs the endpoint's address`}},
		{"rules.bad.yaml", []string{
			`:6:13: rules.require[0]: rule "tp *"`,
			`:9:7: rules.exclude[1]: want an expression or a map of factor: level, got the number 42`,
		}},
		{"syntax.bad.yaml", []string{`:4:3: ',' or ']' must be specified`}},
		{"toplist.bad.yaml", []string{`:1:1: want a map of settings at the top, got a list`}},
		{"empty.bad.yaml", []string{`the file is empty`}},
		{"loadfactor.bad.yaml", []string{
			`:5:22: factors.load.think_time[1]: "soon" is not a duration`,
			`:6:17: factors.load.spwn_rate[0]: unknown key "spwn_rate" (did you mean "spawn_rate"?)`,
		}},
		{"sweep.bad.yaml", []string{
			`factors.sweep: factors.rate and factors.sweep are exclusive load modes`,
			`load.workers: load.workers 2 and factors.sweep cannot go together`,
			`load.sweep_max_concurrency: must be at least 2, got 1`,
		}},
		{"duplicateids.bad.yaml", []string{`both get the id duplicateids.bad_G1_TP1_DP1_U10_short_O128`}},
		{"many.bad.yaml", []string{
			`:1:9: engine: unknown value "tgi"`,
			`:3:6: api: unknown value "grpc"`,
			`:5:8: factors.tp[0]: must be at least 1, got 0`,
			`:5:14: factors.tp[2]: level 1 is listed twice`,
			`factors.rate: factors.users and factors.rate are exclusive load modes`,
			`factors.server_args: "enable-prefix-caching" is not a flag`,
			`:12:13: load.run_time: "3 minutes" is not a duration`,
			`:13:11: load.warmup: a duration needs a unit (write 30s or 30m)`,
			`:14:15: load.spawn_rate: must not be negative`,
			`:15:12: load.timeout: want a duration such as 90s or 3m, got a list`,
			`:17:27: server.gpu_memory_utilization: 1.5 is not a fraction in (0, 1]`,
			`:18:3: server.prot: unknown key "prot" (did you mean "port"?)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(matrixDir, tt.file)
			_, _, err := PlanFile(path, tt.file)
			var invalid *spec.Error
			if !errors.As(err, &invalid) || !errors.Is(err, spec.ErrInvalid) {
				t.Fatalf("PlanFile(%s) error = %v, want a *spec.Error", tt.file, err)
			}
			if len(invalid.Problems) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(invalid.Problems), len(tt.want), err)
			}
			lines := strings.Split(err.Error(), "\n")[1:]
			for i, want := range tt.want {
				if i >= len(lines) || !strings.Contains(lines[i], want) {
					t.Errorf("problem %d should contain %q; got:\n%v", i, want, err)
				}
			}
		})
	}
}

func TestGoodMatrices(t *testing.T) {
	t.Parallel()
	for _, path := range []string{
		filepath.Join(matrixDir, "minimal.good.yaml"),
		filepath.Join(matrixDir, "features.good.yaml"),
		"../../config/experiment_matrix.yaml",
		"../../config/experiment_matrix.sim.yaml",
	} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			_, p, err := PlanFile(path, path)
			if err != nil {
				t.Fatalf("PlanFile: %v", err)
			}
			if len(p.Experiments) == 0 || len(p.Servers) == 0 {
				t.Fatalf("plan has %d experiments on %d servers, want some", len(p.Experiments), len(p.Servers))
			}
		})
	}
}

// TestShippedMatrices pins what the two shipped matrices promise: the seed's 1-2-4-8 GPU study
// with TP and DP splits, and a quickstart that fits in about two minutes.
func TestShippedMatrices(t *testing.T) {
	t.Parallel()
	_, real, err := PlanFile("../../config/experiment_matrix.yaml", "experiment_matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	gpus := map[int]bool{}
	for _, s := range real.Servers {
		gpus[s.GPUs] = true
		if s.TP*s.DP*s.PP != s.GPUs {
			t.Errorf("server %s: tp×dp×pp = %d, want %d GPUs", s.ID, s.TP*s.DP*s.PP, s.GPUs)
		}
	}
	for _, g := range []int{1, 2, 4, 8} {
		if !gpus[g] {
			t.Errorf("default matrix has no %d-GPU server configuration", g)
		}
	}
	_, sim, err := PlanFile("../../config/experiment_matrix.sim.yaml", "experiment_matrix.sim.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if sim.Engine != spec.EngineSim {
		t.Errorf("quickstart engine = %s, want sim", sim.Engine)
	}
	if w := sim.Estimate.Wall.Minutes(); w > 3 {
		t.Errorf("quickstart is estimated at %.1f min, want about two", w)
	}
}

// FuzzParse feeds arbitrary bytes to the matrix parser: it must return a plan or an error,
// never panic.
func FuzzParse(f *testing.F) {
	entries, _ := os.ReadDir(matrixDir)
	for _, e := range entries {
		if data, err := os.ReadFile(filepath.Join(matrixDir, e.Name())); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := spec.Parse(data, "fuzz.yaml", matrixDir)
		if err != nil {
			var invalid *spec.Error
			if !errors.As(err, &invalid) || len(invalid.Problems) == 0 {
				t.Fatalf("error %v is not a *spec.Error with problems", err)
			}
			return
		}
		if l.Repeats*len(l.Factors.TP)*len(l.Factors.DP)*len(l.Factors.Prompts) > 1e5 {
			return // a valid but huge matrix: expanding it is slow, not wrong
		}
		if _, err := Expand(l); err != nil && !errors.Is(err, spec.ErrInvalid) {
			t.Fatalf("Expand error %v is not a spec.ErrInvalid", err)
		}
	})
}
