package campaign

import (
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/spec"
)

func etaExperiments(perServer map[string]int, planned time.Duration) []matrix.Experiment {
	var out []matrix.Experiment
	for _, srv := range []string{"G1", "G2", "G4"} {
		for i := range perServer[srv] {
			e := matrix.Experiment{ID: srv + "_" + string(rune('a'+i)), Server: matrix.ServerConfig{ID: srv}}
			e.Load.Settings = spec.Load{RunTime: spec.Duration(planned)}
			out = append(out, e)
		}
	}
	return out
}

// TestETA: the time left comes from measured durations: experiments left at the measured pace,
// servers not started at the measured start time, divided by how many jobs ran at once.
func TestETA(t *testing.T) {
	t.Parallel()
	s := time.Second
	for _, c := range []struct {
		name    string
		servers map[string]int
		steps   func(m *etaModel)
		elapsed time.Duration
		want    time.Duration
	}{
		{"nothing measured: the plan", map[string]int{"G1": 2, "G2": 2}, func(*etaModel) {}, 0, 4*10*s + 2*30*s},
		{"local: measured pace and start", map[string]int{"G1": 2, "G2": 2}, func(m *etaModel) {
			m.started["G1"], m.starts, m.startSum = true, 1, 5*s
			m.finished("G1_a", 12*s)
		}, 17 * s, 3*12*s + 5*s},
		// Slurm: two jobs ran side by side; their experiments (measured 9 s against 10 s planned)
		// end together 20 s in. The third server's job has yet to run: 2 experiments at the
		// measured pace plus the plan's start, over a parallelism of 36/20.
		{"slurm: jobs side by side", map[string]int{"G1": 2, "G2": 2, "G4": 2}, func(m *etaModel) {
			for _, id := range []string{"G1_a", "G1_b", "G2_a", "G2_b"} {
				m.finished(id, 9*s)
			}
		}, 20 * s, time.Duration(float64(2*9*s+30*s) / (36.0 / 20.0))},
	} {
		m := newETAModel(etaExperiments(c.servers, 10*s), 30*s)
		c.steps(&m)
		if got := m.remaining(c.elapsed); (got - c.want).Abs() > time.Millisecond {
			t.Errorf("%s: %v left, want %v", c.name, got, c.want)
		}
	}
}

func TestStartEstimate(t *testing.T) {
	t.Parallel()
	p := matrix.Plan{Experiments: etaExperiments(map[string]int{"G1": 2}, 10*time.Second),
		Servers: []matrix.ServerConfig{{ID: "G1"}}, Estimate: matrix.Estimate{Wall: 50 * time.Second}}
	if got := startEstimate(p); got != 30*time.Second {
		t.Errorf("start estimate %v, want 30s (50s less 2×10s of load)", got)
	}
}
