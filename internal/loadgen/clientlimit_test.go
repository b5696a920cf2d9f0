//go:build unix

package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

const emfileChildEnv = "LLMSCALE_EMFILE_CHILD"

// emfileReport is what the starved child says of its run.
type emfileReport struct {
	Sent, ClientFailures int
	Most                 bool
	Kinds                map[string]int
	Limits               []string
	Err                  string
}

// TestClientFileLimit runs the load generator in a child process whose open-file limit is
// 24, with 64 users: most requests fail on the client (EMFILE), and they are recorded as the
// client's failures, not the server's connect or stream_broken errors.
func TestClientFileLimit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&fakeServer{tokens: 4, ttft: 100 * time.Millisecond, itl: 50 * time.Millisecond})
	t.Cleanup(srv.Close)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, client := range []string{ClientNetHTTP, ClientEpoll} {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), emfileChildEnv+"=1", "LLMSCALE_EMFILE_TARGET="+srv.URL, "LLMSCALE_EMFILE_CLIENT="+client)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var rep emfileReport
			if err := json.Unmarshal(out, &rep); err != nil {
				t.Fatalf("child said %q: %v", out, err)
			}
			if rep.ClientFailures == 0 || rep.Kinds[results.ErrorClient] != rep.ClientFailures || !rep.Most {
				t.Fatalf("%+v: want most of the requests counted as client failures", rep)
			}
			if rep.Kinds[results.ErrorConnect] > 0 || rep.Kinds[results.ErrorStreamBroken] > 0 {
				t.Errorf("%+v: client failures counted as the server's", rep)
			}
			t.Logf("%+v", rep)
			if len(rep.Limits) == 0 {
				t.Errorf("%+v: no client limit sentence", rep)
			}
		})
	}
}

// runEMFILEChild lowers its own open-file limit and runs a load; it prints an emfileReport.
func runEMFILEChild() {
	rep := emfileReport{}
	defer func() {
		b, _ := json.Marshal(rep)
		fmt.Println(string(b))
	}()
	lim := syscall.Rlimit{Cur: 24, Max: 24}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		rep.Err = err.Error()
		return
	}
	cfg := Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeConcurrency, Concurrency: 64}, Targets: []string{os.Getenv("LLMSCALE_EMFILE_TARGET")}, Model: "m", RunTime: 500 * time.Millisecond, MaxTokens: 4, Timeout: 5 * time.Second, Grace: 2 * time.Second, Client: os.Getenv("LLMSCALE_EMFILE_CLIENT")}, Prompts: testPrompts(2)}
	sink := &MemorySink{}
	sum, err := Run(context.Background(), cfg, sink)
	if err != nil {
		rep.Err = err.Error()
	}
	rep.Sent, rep.ClientFailures, rep.Most, rep.Kinds, rep.Limits = sum.Sent, sum.ClientFailures, sum.MostFailedOnClient(), sum.Failures, sum.Limits
}
