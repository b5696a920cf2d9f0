package slurm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmscale/llmscale/internal/campaign"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/spec"
)

// fakeJob is a job of the fake cluster: it goes through states, one per squeue call.
type fakeJob struct {
	id, name string
	states   []string // the states it shows, one per squeue call; it stays in the last
	exit     int      // wait status, as 22.05's JSON gives it
	gone     bool     // once ended, the job leaves squeue (and scontrol when forgotten)
	forgot   bool     // scontrol no longer knows it
	polls    int
}

func (j *fakeJob) state() string { return j.states[min(j.polls, len(j.states)-1)] }

// fakeCluster plays sbatch, squeue, scontrol, sacct and scancel.
type fakeCluster struct {
	mu         sync.Mutex
	jobs       []*fakeJob
	plan       map[string]fakeJob // by job name: what each submitted job will do
	noJSON     bool               // squeue --json is not supported
	downQueue  bool               // squeue cannot reach the controller
	failSubmit map[string]bool    // job names sbatch refuses
	cancelled  []string
	calls      []string
}

var outputLine = regexp.MustCompile(`(?m)^#SBATCH --output=(.*)$`)
var nameLine = regexp.MustCompile(`(?m)^#SBATCH --job-name=(.*)$`)

func (c *fakeCluster) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, name+" "+strings.Join(args, " "))
	fail := func(msg string) ([]byte, error) {
		return nil, &CommandError{Command: name, Err: errors.New("exit status 1"), Stderr: msg}
	}
	switch name {
	case "sbatch":
		script, err := os.ReadFile(args[len(args)-1])
		if err != nil {
			return fail(err.Error())
		}
		jobName := nameLine.FindSubmatch(script)[1]
		if c.failSubmit[string(jobName)] {
			return fail("sbatch: error: Batch job submission failed: Invalid partition name specified")
		}
		j := c.plan[string(jobName)]
		j.id, j.name = fmt.Sprint(100+len(c.jobs)), string(jobName)
		c.jobs = append(c.jobs, &j)
		out := OutputPath(string(outputLine.FindSubmatch(script)[1]), j.id)
		os.WriteFile(out, []byte("line 1\nthe job's last words\n"), 0o644)
		return []byte(j.id + "\n"), nil
	case "squeue":
		return c.squeue(args)
	case "scontrol":
		for _, j := range c.jobs {
			if j.id == args[2] && !j.forgot {
				return fmt.Appendf(nil, "JobId=%s JobName=%s\n   JobState=%s Reason=None ExitCode=%d:%d\n",
					j.id, j.name, j.state(), j.exit>>8, j.exit&0x7f), nil
			}
		}
		return fail("slurm_load_jobs error: Invalid job id specified")
	case "sacct":
		return fail("Slurm accounting storage is disabled")
	case "scancel":
		c.cancelled = append(c.cancelled, args...)
		for _, j := range c.jobs {
			if slices.Contains(args, j.id) && PhaseOf(j.state()) != PhaseEnded {
				j.states, j.polls, j.exit = []string{"RUNNING", "CANCELLED"}, 0, 15
			}
		}
		return nil, nil
	}
	return fail("unknown command")
}

func (c *fakeCluster) squeue(args []string) ([]byte, error) {
	json := slices.Contains(args, "--json")
	if c.downQueue {
		return nil, &CommandError{Command: "squeue", Err: errors.New("exit status 1"), Stderr: "slurm_load_jobs error: Unable to contact slurm controller"}
	}
	if json && c.noJSON {
		return nil, &CommandError{Command: "squeue", Err: errors.New("exit status 1"), Stderr: "squeue: unrecognized option '--json'"}
	}
	var listed []*fakeJob
	for _, j := range c.jobs {
		if j.gone && PhaseOf(j.state()) == PhaseEnded {
			continue
		}
		listed = append(listed, j)
	}
	var out []byte
	if json {
		out = queueJSON(listed)
	} else {
		for _, j := range listed {
			out = fmt.Appendf(out, "%s|%s|None|node1\n", j.id, j.state())
		}
	}
	for _, j := range c.jobs {
		j.polls++
	}
	return out, nil
}

func queueJSON(jobs []*fakeJob) []byte {
	type qj struct {
		ID    int    `json:"job_id"`
		Name  string `json:"name"`
		State string `json:"job_state"`
		Exit  int    `json:"exit_code"`
		Nodes string `json:"nodes"`
	}
	doc := struct {
		Jobs []qj `json:"jobs"`
	}{Jobs: []qj{}}
	for _, j := range jobs {
		var id int
		fmt.Sscan(j.id, &id)
		doc.Jobs = append(doc.Jobs, qj{ID: id, Name: j.name, State: j.state(), Exit: j.exit, Nodes: "node1"})
	}
	data, _ := json.Marshal(doc)
	return data
}

func groups(ids ...string) []campaign.Group {
	var out []campaign.Group
	for _, id := range ids {
		sc := matrix.ServerConfig{ID: id, Engine: "sim", Model: "m", GPUs: 1}
		out = append(out, campaign.Group{Server: sc, Experiments: []matrix.Experiment{{ID: "c_" + id + "_U1", Server: sc}}})
	}
	return out
}

func newTestExecutor(t *testing.T, c *fakeCluster) (*Executor, *bytes.Buffer) {
	var log bytes.Buffer
	x := NewExecutor(Config{Settings: spec.Slurm{GPUFlag: GPUFlagGres}, Campaign: "c", Results: t.TempDir(),
		WorkDir: "/work", Command: []string{"/bin/llmscale", "run"}, Runner: c, Log: &log, Poll: time.Second})
	return x, &log
}

// run runs the executor in a synctest bubble and returns what it reported, by server.
func run(t *testing.T, x *Executor, ctx context.Context, gs []campaign.Group) (map[string]campaign.GroupEnd, error) {
	ends := map[string]campaign.GroupEnd{}
	err := x.Run(ctx, gs, func(e campaign.GroupEnd) {
		if _, dup := ends[e.Server]; dup {
			t.Errorf("%s reported twice", e.Server)
		}
		ends[e.Server] = e
	})
	return ends, err
}

func TestExecutorJobsEnd(t *testing.T) {
	t.Parallel()
	for _, noJSON := range []bool{false, true} {
		t.Run(fmt.Sprintf("noJSON=%v", noJSON), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := &fakeCluster{noJSON: noJSON, failSubmit: map[string]bool{"llmscale-c-S4": true}, plan: map[string]fakeJob{
					"llmscale-c-S1": {states: []string{"PENDING", "RUNNING", "RUNNING", "COMPLETED"}, gone: true},
					"llmscale-c-S2": {states: []string{"RUNNING", "FAILED"}, exit: 3 << 8},
					"llmscale-c-S3": {states: []string{"RUNNING", "TIMEOUT"}, gone: true, forgot: true},
				}}
				x, log := newTestExecutor(t, c)
				ends, err := run(t, x, context.Background(), groups("S1", "S2", "S3", "S4"))
				if err != nil {
					t.Fatal(err)
				}
				checkEnd(t, ends["S1"], true, false, "")
				checkEnd(t, ends["S2"], false, false, "slurm job 101 FAILED (exit code 3)")
				checkEnd(t, ends["S3"], false, false, "left the queue (its end state is unknown")
				checkEnd(t, ends["S4"], false, false, "could not submit its slurm job")
				if !strings.Contains(ends["S2"].Detail, "the job's last words") {
					t.Errorf("detail has no output tail: %q", ends["S2"].Detail)
				}
				if !strings.Contains(log.String(), "job 100 (S1) RUNNING on node1") {
					t.Errorf("log:\n%s", log)
				}
				var recs []jobRecord
				data, _ := os.ReadFile(filepath.Join(x.cfg.Results, Dir, "jobs.json"))
				if err := json.Unmarshal(data, &recs); err != nil || len(recs) != 3 || recs[1].State != "FAILED (exit code 3)" {
					t.Errorf("jobs.json: %v %+v", err, recs)
				}
				if _, err := os.Stat(x.ScriptPath("S1")); err != nil {
					t.Errorf("the batch script is not kept: %v", err)
				}
			})
		})
	}
}

func checkEnd(t *testing.T, e campaign.GroupEnd, ok, killed bool, reason string) {
	t.Helper()
	if e.OK != ok || e.Killed != killed || !strings.Contains(e.Reason, reason) {
		t.Errorf("%s: got ok=%v killed=%v reason %q; want ok=%v killed=%v reason with %q", e.Server, e.OK, e.Killed, e.Reason, ok, killed, reason)
	}
}

// A job killed from outside (scancel by someone, time limit) is Killed; the campaign then
// overrides what the job recorded.
func TestExecutorKilledJob(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := &fakeCluster{plan: map[string]fakeJob{
			"llmscale-c-S1": {states: []string{"RUNNING", "CANCELLED"}, exit: 15},
			"llmscale-c-S2": {states: []string{"RUNNING", "RUNNING", "TIMEOUT"}},
		}}
		x, _ := newTestExecutor(t, c)
		ends, err := run(t, x, context.Background(), groups("S1", "S2"))
		if err != nil {
			t.Fatal(err)
		}
		checkEnd(t, ends["S1"], false, true, "slurm job 100 CANCELLED (signal 15)")
		checkEnd(t, ends["S2"], false, true, "slurm job 101 TIMEOUT")
	})
}

// Ctrl-C cancels every job still alive, waits for them to leave, and reports them killed.
func TestExecutorCancel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := &fakeCluster{plan: map[string]fakeJob{
			"llmscale-c-S1": {states: []string{"RUNNING"}, gone: true},
			"llmscale-c-S2": {states: []string{"PENDING"}},
			"llmscale-c-S3": {states: []string{"RUNNING", "COMPLETED"}, gone: true},
		}}
		x, _ := newTestExecutor(t, c)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(5*time.Second, cancel)
		ends, err := run(t, x, ctx, groups("S1", "S2", "S3"))
		if err != nil {
			t.Fatal(err)
		}
		if diff := slices.Compare(c.cancelled, []string{"100", "101"}); diff != 0 {
			t.Errorf("scancel %v, want 100 101 (103 had completed)", c.cancelled)
		}
		checkEnd(t, ends["S1"], false, true, "interrupted: slurm job 100 cancelled")
		checkEnd(t, ends["S2"], false, true, "interrupted: slurm job 101 cancelled")
		checkEnd(t, ends["S3"], true, false, "")
		for _, j := range c.jobs {
			if PhaseOf(j.state()) != PhaseEnded {
				t.Errorf("job %s left in %s", j.id, j.state())
			}
		}
	})
}

// A controller that stays unreachable ends the watch with an error after DefaultQueueGrace;
// the jobs are left alone.
func TestExecutorQueueDown(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := &fakeCluster{downQueue: true, plan: map[string]fakeJob{"llmscale-c-S1": {states: []string{"RUNNING"}}}}
		x, log := newTestExecutor(t, c)
		start := time.Now()
		ends, err := run(t, x, context.Background(), groups("S1"))
		if err == nil || !strings.Contains(err.Error(), "Unable to contact slurm controller") || len(ends) != 0 {
			t.Fatalf("err %v, ends %v; want the controller's error and no end", err, ends)
		}
		if waited := time.Since(start); waited < DefaultQueueGrace {
			t.Errorf("gave up after %v, want %v", waited, DefaultQueueGrace)
		}
		if len(c.cancelled) != 0 || strings.Count(log.String(), "trying again") != 1 {
			t.Errorf("cancelled %v; log:\n%s", c.cancelled, log)
		}
	})
}

func TestExecutorDryRun(t *testing.T) {
	t.Parallel()
	c := &fakeCluster{}
	x, _ := newTestExecutor(t, c)
	var out bytes.Buffer
	if err := x.DryRun(&out, groups("S1", "S2")); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "#!/bin/bash"); n != 2 || len(c.calls) != 0 {
		t.Errorf("%d scripts, %d commands run:\n%s", n, len(c.calls), out.String())
	}
	if !strings.Contains(out.String(), "exec /bin/llmscale run --server S2\n") {
		t.Errorf("dry run:\n%s", out.String())
	}
}
