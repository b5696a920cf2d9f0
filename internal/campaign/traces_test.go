package campaign

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/otlp"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/spec"
)

// TestRecordSpansWithoutSpans: a server that sends no span leaves a one-line note and no file;
// an engine llmscale cannot point at a receiver gets a note and no receiver.
func TestRecordSpansWithoutSpans(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	reqs := []results.Request{{ExperimentID: "e", ResponseID: "cmpl-1", TTFTNs: 5, E2ENs: 9, Phase: results.PhaseMeasure}}
	if err := results.WriteParquet(filepath.Join(dir, "requests.parquet"), reqs); err != nil {
		t.Fatal(err)
	}
	rcv, err := otlp.Start(otlp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // do not wait for spans that will not come
	var notes []string
	note := func(s string) { notes = append(notes, s) }
	(&Runner{}).recordSpans(ctx, &serverSet{traces: rcv}, "e", dir, note)
	if len(notes) != 1 || !strings.Contains(notes[0], "the server sent no request spans") {
		t.Errorf("notes %q", notes)
	}
	if _, err := os.Stat(filepath.Join(dir, results.ServerSpansFile)); !os.IsNotExist(err) {
		t.Errorf("server_spans.parquet written without spans: %v", err)
	}

	set := &serverSet{cfg: matrix.ServerConfig{Engine: spec.EngineLlamaCpp}}
	if err := set.startTraces(true); err != nil || set.traces != nil || !strings.Contains(set.tracesNote, "engine llamacpp") {
		t.Fatalf("llamacpp: err %v, receiver %v, note %q", err, set.traces, set.tracesNote)
	}
	notes = nil
	(&Runner{}).recordSpans(ctx, set, "e", dir, note)
	if len(notes) != 1 || notes[0] != set.tracesNote {
		t.Errorf("notes %q", notes)
	}
}
