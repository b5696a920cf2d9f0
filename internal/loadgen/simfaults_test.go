package loadgen

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sim"
)

// TestSimulatorFaults runs the load generator, both clients, against the built-in simulator
// on real loopback TCP with each of the simulator's mid-stream faults on every request, and
// checks each is recorded as its own failure kind.
func TestSimulatorFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults sim.Faults
		kind   string
		status int32
		msg    string
	}{
		{"error event mid-stream", sim.Faults{StreamErrorRate: 1}, results.ErrorStreamError, 200, "simulated engine failure"},
		{"tcp reset mid-stream", sim.Faults{ResetRate: 1}, results.ErrorStreamBroken, 200, "reset"},
		{"stall before the first byte", sim.Faults{FirstByteStallRate: 1, StallFor: time.Minute}, results.ErrorTimeout, 0, "request timeout"},
		{"connection cut mid-stream", sim.Faults{DropRate: 1}, results.ErrorStreamBroken, 200, ""},
	}
	clients := clientsHere(t)
	for _, tt := range tests {
		for _, client := range clients {
			t.Run(tt.name+"/"+client, func(t *testing.T) {
				t.Parallel()
				srv, err := sim.New(sim.Config{Cadence: &sim.Cadence{TTFT: 10 * time.Millisecond, ITL: 10 * time.Millisecond},
					Faults: tt.faults}, sim.Options{})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go srv.Run(ctx)
				sum, err, rows := runTCP(t, srv.Handler(), func(c *Config) {
					c.Client, c.Model = client, sim.DefaultModel
					c.RunTime, c.StallTimeout, c.Timeout, c.Grace = time.Second, 2*time.Second, 3*time.Second, 5*time.Second
				})
				if !errors.Is(err, ErrAllFailed) {
					t.Fatalf("Run error %v, want ErrAllFailed", err)
				}
				if len(rows) < 2 {
					t.Fatalf("%d records: the run did not go on after failures", len(rows))
				}
				for _, r := range rows {
					if r.ErrorKind != tt.kind || r.HTTPStatus != tt.status || !strings.Contains(r.Error, tt.msg) {
						t.Fatalf("record: kind %q status %d error %q; want %q, %d, containing %q",
							r.ErrorKind, r.HTTPStatus, r.Error, tt.kind, tt.status, tt.msg)
					}
				}
				if sum.Failures[tt.kind] != len(rows) {
					t.Fatalf("summary failures %v over %d records", sum.Failures, len(rows))
				}
			})
		}
	}
}
