package cli

import (
	"context"
	"errors"
	"testing"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/spec"
)

// TestPlanStopsOnSignal: a plan still expanding when the context is cancelled (Ctrl-C,
// SIGTERM) returns at once with exit 130; a plan that finishes returns its result.
func TestPlanStopsOnSignal(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := planOrStop(ctx, func() (*spec.Loaded, matrix.Plan, error) {
		<-release // a plan that would run for as long as the test
		return nil, matrix.Plan{}, nil
	})
	var ce *codedError
	if !errors.As(err, &ce) || ce.code != ExitInterrupted {
		t.Fatalf("cancelled plan: %v, want exit %d", err, ExitInterrupted)
	}
	_, p, err := planOrStop(context.Background(), func() (*spec.Loaded, matrix.Plan, error) {
		return nil, matrix.Plan{Campaign: "c"}, nil
	})
	if err != nil || p.Campaign != "c" {
		t.Fatalf("finished plan: %v %q", err, p.Campaign)
	}
}
