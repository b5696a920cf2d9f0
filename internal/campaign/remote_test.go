package campaign

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/results"
)

// fakeExecutor plays the jobs: for each group, it writes what the job would have left and
// reports the end it is told.
type fakeExecutor struct {
	root   string
	leave  map[string][]string // server id → status each experiment's job left ("" for none)
	ends   map[string]GroupEnd // server id → how its job ended; absent: never reported
	groups []Group
	err    error
}

func (f *fakeExecutor) Run(_ context.Context, groups []Group, ended func(GroupEnd)) error {
	f.groups = groups
	for _, g := range groups {
		for i, e := range g.Experiments {
			status := f.leave[g.Server.ID][i]
			if status == "" {
				continue
			}
			dir := results.Dir(f.root, e.ID)
			rec := results.Experiment{ID: e.ID, Status: status, StartedAt: time.Unix(100, 0), EndedAt: time.Unix(102, 0)}
			if status == results.StatusFailed {
				rec.Reason = "server crashed during the experiment"
			}
			if err := results.WriteExperiment(dir, rec); err != nil {
				return err
			}
			if status == results.StatusDone {
				os.WriteFile(filepath.Join(dir, "requests-0.parquet"), []byte("x"), 0o644)
			}
		}
		if end, ok := f.ends[g.Server.ID]; ok {
			end.Server = g.Server.ID
			ended(end)
		}
	}
	return f.err
}

func (f *fakeExecutor) DryRun(w io.Writer, groups []Group) error {
	for _, g := range groups {
		io.WriteString(w, "job for "+g.Server.ID+"\n")
	}
	return nil
}

const remoteMatrix = `campaign: c
engine: sim
factors:
  dp: [1, 2, 4, 8]
  users: [1, 2]
  prompts: ["random:8:4"]
`

func planFor(t *testing.T) (*Runner, *fakeExecutor, string) {
	t.Helper()
	root := t.TempDir()
	l, p, err := matrix.PlanBytes([]byte(remoteMatrix), "m.yaml", root)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fakeExecutor{root: root}
	r := New(l, p, Options{Results: root, Executor: fx, Log: io.Discard, Out: io.Discard})
	return r, fx, root
}

func TestRemoteSettlesEveryExperiment(t *testing.T) {
	t.Parallel()
	r, fx, root := planFor(t)
	fx.leave = map[string][]string{
		"G1_TP1_DP1": {results.StatusDone, results.StatusDone},      // completed
		"G2_TP1_DP2": {results.StatusDone, results.StatusFailed},    // its own failure, job exit 1
		"G4_TP1_DP4": {results.StatusDone, results.StatusRunning},   // cancelled mid-way
		"G8_TP1_DP8": {results.StatusFailed, results.StatusRunning}, // never reported
	}
	fx.ends = map[string]GroupEnd{
		"G1_TP1_DP1": {OK: true},
		"G2_TP1_DP2": {Reason: "slurm job 2 FAILED (exit code 1)", Detail: "tail 2"},
		"G4_TP1_DP4": {Reason: "slurm job 3 CANCELLED", Killed: true, Detail: "last lines of job 3"},
	}
	out, err := r.Run(context.Background())
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("err %v, want ErrFailed", err)
	}
	if out.Done != 4 || out.Failed != 4 {
		t.Errorf("outcome %+v, want 4 done and 4 failed", out)
	}
	want := map[string]struct{ status, reason, tail string }{
		"c_G1_TP1_DP1_U1_rand8x4_O4": {results.StatusDone, "", ""},
		"c_G2_TP1_DP2_U2_rand8x4_O4": {results.StatusFailed, "server crashed during the experiment", ""},
		"c_G4_TP1_DP4_U2_rand8x4_O4": {results.StatusFailed, "slurm job 3 CANCELLED", "last lines of job 3"},
		"c_G8_TP1_DP8_U1_rand8x4_O4": {results.StatusFailed, "interrupted before its job ended", "inside the job: server crashed"},
		"c_G8_TP1_DP8_U2_rand8x4_O4": {results.StatusFailed, "interrupted before its job ended", ""},
	}
	for id, w := range want {
		rec, err := results.ReadExperiment(results.Dir(root, id))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if rec.Status != w.status || rec.Reason != w.reason || !strings.Contains(rec.LogTail, w.tail) {
			t.Errorf("%s: %s %q (log %q); want %s %q with %q", id, rec.Status, rec.Reason, rec.LogTail, w.status, w.reason, w.tail)
		}
	}
	var index campaignFile
	if err := results.ReadJSON(filepath.Join(root, results.CampaignFile), &index); err != nil {
		t.Fatal(err)
	}
	for _, e := range index.Experiments {
		if w, ok := want[e.ID]; ok && e.Status != w.status {
			t.Errorf("campaign.json says %s is %s, want %s", e.ID, e.Status, w.status)
		}
	}

	// Resume: only the unfinished experiments go to the executor, grouped by server.
	r2, fx2, _ := planFor(t)
	r2.opts.Results, fx2.root = root, root
	fx2.leave = map[string][]string{"G2_TP1_DP2": {results.StatusDone}, "G4_TP1_DP4": {results.StatusDone},
		"G8_TP1_DP8": {results.StatusDone, results.StatusDone}}
	fx2.ends = map[string]GroupEnd{"G2_TP1_DP2": {OK: true}, "G4_TP1_DP4": {OK: true}, "G8_TP1_DP8": {OK: true}}
	out, err = r2.Run(context.Background())
	if err != nil || out.Done != 4 || out.AlreadyDone != 4 {
		t.Fatalf("resume: %+v, %v; want 4 done now, 4 already", out, err)
	}
	var sent []string
	for _, g := range fx2.groups {
		sent = append(sent, g.Server.ID+":"+strings.Repeat("x", len(g.Experiments)))
	}
	if got := strings.Join(sent, " "); got != "G2_TP1_DP2:x G4_TP1_DP4:x G8_TP1_DP8:xx" {
		t.Errorf("resubmitted %s; want only the unfinished experiments", got)
	}
}

func TestRemoteExecutorErrorAndDryRun(t *testing.T) {
	t.Parallel()
	r, fx, _ := planFor(t)
	fx.leave = map[string][]string{"G1_TP1_DP1": {"", ""}, "G2_TP1_DP2": {"", ""}, "G4_TP1_DP4": {"", ""}, "G8_TP1_DP8": {"", ""}}
	fx.err = errors.New("squeue: connection refused")
	out, err := r.Run(context.Background())
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "connection refused") || out.Failed != 8 {
		t.Errorf("executor error: %+v, %v", out, err)
	}

	r, _, _ = planFor(t)
	var b bytes.Buffer
	r.opts.Out = &b
	if err := r.DryRun(); err != nil || strings.Count(b.String(), "job for ") != 4 {
		t.Errorf("dry run: %v\n%s", err, b.String())
	}
}
