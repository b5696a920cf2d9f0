package campaign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/results"
)

// localMatrix has two server configurations of two experiments each; server.retries 1 gives
// every start and every experiment a second attempt.
const localMatrix = `campaign: c
engine: sim
server:
  retries: 1
telemetry:
  gpu: none
factors:
  dp: [1, 2]
  users: [1, 2]
  prompts: ["random:8:4"]
`

// fakeLocal stands in for the server starts and experiment runs of the local loop: it
// records every call and fails the first startFails[server] starts and the first
// runFails[experiment index] attempts (-1: every attempt).
type fakeLocal struct {
	r          *Runner
	calls      []string
	startFails map[string]int
	runFails   map[int]int
}

func (f *fakeLocal) start(_ context.Context, sc matrix.ServerConfig) (*serverSet, error) {
	f.calls = append(f.calls, "start "+sc.ID)
	if f.startFails[sc.ID] != 0 {
		f.startFails[sc.ID]--
		return nil, errors.New("engine exited with status 1")
	}
	return &serverSet{cfg: sc, targets: []string{"http://127.0.0.1:1"}}, nil
}

func (f *fakeLocal) run(_ context.Context, set *serverSet, e matrix.Experiment, first bool, attempt int) (results.Experiment, *loadgen.Summary) {
	f.calls = append(f.calls, fmt.Sprintf("run %d.%d first=%t", e.Index, attempt, first))
	rec := f.r.newRecord(e, set)
	rec.Attempts, rec.EndedAt = attempt, f.r.opts.Now().UTC()
	if n := f.runFails[e.Index]; n != 0 {
		f.runFails[e.Index]--
		rec.Status, rec.Reason = results.StatusFailed, "no request completed"
		f.r.save(e, rec)
		return rec, nil
	}
	rec.Status = results.StatusDone
	f.r.save(e, rec)
	// a done experiment has its requests: what resume looks for
	dir := results.Dir(f.r.opts.Results, e.ID)
	if err := os.WriteFile(filepath.Join(dir, "requests-0.parquet"), []byte("x"), 0o644); err != nil {
		rec.Status, rec.Reason = results.StatusFailed, err.Error()
	}
	return rec, &loadgen.Summary{}
}

// localRunner is a Runner of localMatrix into root whose starts and runs are f's.
func localRunner(t *testing.T, root string, opts Options) (*Runner, *fakeLocal, matrix.Plan) {
	t.Helper()
	l, p, err := matrix.PlanBytes([]byte(localMatrix), "m.yaml", root)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Experiments) != 4 {
		t.Fatalf("plan has %d experiments, want 4", len(p.Experiments))
	}
	opts.Results, opts.Log, opts.Out = root, io.Discard, io.Discard
	opts.Now = func() time.Time { return time.Unix(1000, 0) }
	r := New(l, p, opts)
	f := &fakeLocal{r: r, startFails: map[string]int{}, runFails: map[int]int{}}
	r.startSet, r.runOne = f.start, f.run
	return r, f, p
}

func status(t *testing.T, root string, e matrix.Experiment) string {
	t.Helper()
	rec, err := results.ReadExperiment(results.Dir(root, e.ID))
	if err != nil {
		return "none"
	}
	return rec.Status + " " + rec.Reason
}

func TestLocalLoop(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		opts       Options
		startFails map[string]int
		runFails   map[int]int
		want       Outcome
		failed     bool
		calls      string
		statuses   []string // per experiment in plan order
	}{
		{
			name:     "every experiment on one start of its server, in plan order",
			want:     Outcome{Done: 4},
			calls:    "start G1_TP1_DP1|run 1.1 first=true|run 2.1 first=false|start G2_TP1_DP2|run 3.1 first=true|run 4.1 first=false",
			statuses: []string{"done ", "done ", "done ", "done "},
		},
		{
			name:     "a failing experiment is retried, recorded and the campaign goes on",
			runFails: map[int]int{1: -1, 3: 1},
			want:     Outcome{Done: 3, Failed: 1},
			failed:   true,
			calls: "start G1_TP1_DP1|run 1.1 first=true|run 1.2 first=false|run 2.1 first=false|" +
				"start G2_TP1_DP2|run 3.1 first=true|run 3.2 first=false|run 4.1 first=false",
			statuses: []string{"failed no request completed", "done ", "done ", "done "},
		},
		{
			name:       "a server that does not start fails its experiments, the next one runs",
			startFails: map[string]int{"G1_TP1_DP1": -1},
			want:       Outcome{Done: 2, Failed: 2},
			failed:     true,
			calls:      "start G1_TP1_DP1|start G1_TP1_DP1|start G2_TP1_DP2|run 3.1 first=true|run 4.1 first=false",
			statuses: []string{"failed server did not start: engine exited with status 1",
				"failed server did not start: engine exited with status 1", "done ", "done "},
		},
		{
			name:       "a start retried once succeeds",
			startFails: map[string]int{"G2_TP1_DP2": 1},
			want:       Outcome{Done: 4},
			calls:      "start G1_TP1_DP1|run 1.1 first=true|run 2.1 first=false|start G2_TP1_DP2|start G2_TP1_DP2|run 3.1 first=true|run 4.1 first=false",
			statuses:   []string{"done ", "done ", "done ", "done "},
		},
		{
			name:     "--only and --exclude skip experiments and servers left with none",
			opts:     Options{Only: []string{"*_U2_*"}, Exclude: []string{"*_G2_*"}},
			want:     Outcome{Done: 1, Skipped: 3},
			calls:    "start G1_TP1_DP1|run 2.1 first=true",
			statuses: []string{"none", "done ", "none", "none"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			r, f, p := localRunner(t, root, c.opts)
			for k, v := range c.startFails {
				f.startFails[k] = v
			}
			for k, v := range c.runFails {
				f.runFails[k] = v
			}
			out, err := r.Run(context.Background())
			if c.failed != errors.Is(err, ErrFailed) || (!c.failed && err != nil) {
				t.Errorf("err %v, want failed=%t", err, c.failed)
			}
			if out != c.want {
				t.Errorf("outcome %+v, want %+v", out, c.want)
			}
			if got := strings.Join(f.calls, "|"); got != c.calls {
				t.Errorf("calls\n got %s\nwant %s", got, c.calls)
			}
			for i, e := range p.Experiments {
				if got := status(t, root, e); got != c.statuses[i] {
					t.Errorf("%s: %q, want %q", e.ID, got, c.statuses[i])
				}
			}
		})
	}
}

// TestLocalResume runs a campaign that leaves one failure, then runs it again: only the
// failed experiment runs (on a fresh start of its server), unless forced.
func TestLocalResume(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	r, f, _ := localRunner(t, root, Options{})
	f.runFails[4] = -1
	if out, err := r.Run(context.Background()); !errors.Is(err, ErrFailed) || out != (Outcome{Done: 3, Failed: 1}) {
		t.Fatalf("first run: %+v, %v", out, err)
	}

	r, f, _ = localRunner(t, root, Options{})
	out, err := r.Run(context.Background())
	if err != nil || out != (Outcome{Done: 1, AlreadyDone: 3}) {
		t.Errorf("resume: %+v, %v; want 1 done now, 3 already", out, err)
	}
	if got, want := strings.Join(f.calls, "|"), "start G2_TP1_DP2|run 4.1 first=true"; got != want {
		t.Errorf("resume calls %s, want %s", got, want)
	}
	var index campaignFile
	if err := results.ReadJSON(filepath.Join(root, results.CampaignFile), &index); err != nil {
		t.Fatal(err)
	}
	for _, e := range index.Experiments {
		if e.Status != results.StatusDone {
			t.Errorf("campaign.json says %s is %s after the resume", e.ID, e.Status)
		}
	}

	r, f, _ = localRunner(t, root, Options{Force: true})
	if out, err := r.Run(context.Background()); err != nil || out != (Outcome{Done: 4}) {
		t.Errorf("forced: %+v, %v; want all 4 run again", out, err)
	}
	if n := strings.Count(strings.Join(f.calls, "|"), "run "); n != 4 {
		t.Errorf("forced run made %d runs, want 4: %v", n, f.calls)
	}
}

// TestLocalInterrupted stops the loop between experiments: nothing else starts or runs.
func TestLocalInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	r, f, _ := localRunner(t, t.TempDir(), Options{})
	inner := r.runOne
	r.runOne = func(c context.Context, set *serverSet, e matrix.Experiment, first bool, attempt int) (results.Experiment, *loadgen.Summary) {
		cancel()
		return inner(c, set, e, first, attempt)
	}
	out, err := r.Run(ctx)
	if !errors.Is(err, ErrInterrupted) || out.Done != 1 {
		t.Errorf("%+v, %v; want ErrInterrupted after 1 done", out, err)
	}
	if got := strings.Join(f.calls, "|"); got != "start G1_TP1_DP1|run 1.1 first=true" {
		t.Errorf("calls %s", got)
	}
}

func TestGroupByServer(t *testing.T) {
	t.Parallel()
	exp := func(server string, i int) matrix.Experiment {
		return matrix.Experiment{Index: i, Server: matrix.ServerConfig{ID: server}}
	}
	cases := []struct {
		name string
		in   []matrix.Experiment
		want string
	}{
		{"none", nil, ""},
		{"consecutive", []matrix.Experiment{exp("A", 1), exp("A", 2), exp("B", 3)}, "A:1,2 B:3"},
		{"interleaved: one group per server, first appearance first", []matrix.Experiment{exp("B", 1), exp("A", 2), exp("B", 3), exp("A", 4)}, "B:1,3 A:2,4"},
	}
	for _, c := range cases {
		var parts []string
		for _, g := range groupByServer(c.in) {
			var idx []string
			for _, e := range g.Experiments {
				if e.Server.ID != g.Server.ID {
					t.Errorf("%s: experiment %d of %s is in group %s", c.name, e.Index, e.Server.ID, g.Server.ID)
				}
				idx = append(idx, fmt.Sprint(e.Index))
			}
			parts = append(parts, g.Server.ID+":"+strings.Join(idx, ","))
		}
		if got := strings.Join(parts, " "); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
