package diagnose

import (
	"strings"
	"testing"
)

// TestSweepPointLoad: a sweep's sync point is diagnosed at its own load, one request in
// flight, not at its load_level (the requests/s it reached, on the sweep's axis).
func TestSweepPointLoad(t *testing.T) {
	t.Parallel()
	r := server(1, 0, 0.01)
	r.Mode, r.Users, r.Concurrency, r.LoadLevel, r.SweepID, r.SweepStage = "sweep", 0, 1, 8, "s", "sync"
	d := Experiment(&r)
	if d.Verdict.Code != CodeNotSaturated || !strings.Contains(d.Verdict.Sentence, "(concurrency 1)") {
		t.Errorf("sync point: %s (%s); want not saturated at concurrency 1", d.Verdict.Code, d.Verdict.Sentence)
	}
}
