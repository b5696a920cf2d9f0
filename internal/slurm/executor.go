package slurm

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/campaign"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/spec"
)

// Dir is the folder of a results tree that holds the batch scripts, the jobs' output and
// jobs.json.
const Dir = "slurm"

// Defaults of the executor.
const (
	DefaultPoll       = 10 * time.Second // between two squeue calls
	DefaultCancelWait = 5 * time.Minute  // for cancelled jobs to leave the queue
	DefaultQueueGrace = 5 * time.Minute  // squeue may fail this long before the executor gives up
	outputTailLines   = 25
)

// Config is what every job of a campaign shares.
type Config struct {
	Settings spec.Slurm
	Campaign string
	Results  string   // absolute path of the results tree, shared by every node
	WorkDir  string   // absolute path the jobs start in
	Command  []string // the llmscale command a job runs, without --server
	Runner   Runner
	Log      io.Writer
	Now      func() time.Time
	Poll     time.Duration // 0: Settings.Poll, else DefaultPoll
	// CancelWait bounds the wait for cancelled jobs to leave the queue (0: DefaultCancelWait).
	CancelWait time.Duration
}

// Executor runs each server configuration's experiments as one Slurm batch job; it
// implements campaign.Executor.
type Executor struct {
	cfg    Config
	client *Client
}

var _ campaign.Executor = (*Executor)(nil)

// NewExecutor prepares an executor; nothing is submitted until Run.
func NewExecutor(cfg Config) *Executor {
	if cfg.Poll <= 0 {
		cfg.Poll = cfg.Settings.Poll.D()
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.CancelWait <= 0 {
		cfg.CancelWait = DefaultCancelWait
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Executor{cfg: cfg, client: NewClient(cfg.Runner)}
}

// ScriptPath is where the batch script of a server configuration is written.
func (x *Executor) ScriptPath(serverID string) string {
	return filepath.Join(x.cfg.Results, Dir, serverID+".sbatch")
}

// Script is the batch job of one server configuration.
func (x *Executor) Script(g campaign.Group) Script {
	s, sc := x.cfg.Settings, g.Server
	comment := []string{
		fmt.Sprintf("llmscale campaign %s, server configuration %s: engine %s, model %s, GPUs %d",
			x.cfg.Campaign, sc.ID, sc.Engine, sc.Model, sc.GPUs),
		fmt.Sprintf("%d experiment%s to run (the job skips those already done):", len(g.Experiments), plural(len(g.Experiments))),
	}
	for i, e := range g.Experiments {
		if i == 20 {
			comment = append(comment, fmt.Sprintf("  … and %d more", len(g.Experiments)-i))
			break
		}
		comment = append(comment, "  "+e.ID)
	}
	for i := range comment {
		comment[i] = printable(comment[i])
	}
	cmd := append(append([]string(nil), x.cfg.Command...), "--server", sc.ID)
	return Script{
		JobName: jobName(x.cfg.Campaign, sc.ID), WorkDir: x.cfg.WorkDir,
		Output:    EscapePercent(filepath.Join(x.cfg.Results, Dir, sc.ID)) + "-%j.out",
		Partition: s.Partition, Account: s.Account, TimeLimit: s.TimeLimit, Nodes: s.Nodes,
		CPUsPerTask: s.CPUsPerTask, Mem: s.Mem, GPUs: sc.GPUs, GPUFlag: s.GPUFlag, Extra: s.Extra,
		Comment: comment, Setup: s.Setup, Command: cmd,
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func jobName(campaignName, serverID string) string {
	return unsafeName.ReplaceAllString("llmscale-"+campaignName+"-"+serverID, "_")
}

// printable replaces control characters, so a comment stays one line.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// DryRun implements campaign.Executor: it prints each batch script.
func (x *Executor) DryRun(w io.Writer, groups []campaign.Group) error {
	for _, g := range groups {
		text, err := Render(x.Script(g))
		if err != nil {
			return fmt.Errorf("batch script of %s: %w", g.Server.ID, err)
		}
		fmt.Fprintf(w, "# %s (submitted with sbatch --parsable)\n%s\n", x.ScriptPath(g.Server.ID), text)
	}
	return nil
}

// job is one submitted job and what is known of it.
type job struct {
	group   campaign.Group
	id      string
	output  string // the job's output file
	state   string // last state seen, to print changes
	ended   bool
	endedAt time.Time
	final   Job
}

// Run implements campaign.Executor: it submits one job per group, watches them until they end,
// and cancels them all when ctx ends.
func (x *Executor) Run(ctx context.Context, groups []campaign.Group, ended func(campaign.GroupEnd)) error {
	if err := os.MkdirAll(filepath.Join(x.cfg.Results, Dir), 0o755); err != nil {
		return fmt.Errorf("slurm folder: %w", err)
	}
	var jobs []*job
	for _, g := range groups {
		if ctx.Err() != nil {
			break
		}
		j, err := x.submit(ctx, g)
		if err != nil {
			x.logf("slurm: %s: %v", g.Server.ID, err)
			ended(campaign.GroupEnd{Server: g.Server.ID, Reason: "could not submit its slurm job: " + firstLine(err.Error()), Detail: err.Error()})
			continue
		}
		jobs = append(jobs, j)
		x.writeJobs(jobs)
	}
	err := x.watch(ctx, jobs, ended)
	if ctx.Err() != nil {
		x.cancel(context.WithoutCancel(ctx), jobs, ended)
	}
	x.writeJobs(jobs)
	return err
}

// submit writes a group's batch script and submits it.
func (x *Executor) submit(ctx context.Context, g campaign.Group) (*job, error) {
	s := x.Script(g)
	text, err := Render(s)
	if err != nil {
		return nil, err
	}
	path := x.ScriptPath(g.Server.ID)
	if err := results.WriteAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, text); return err }); err != nil {
		return nil, err
	}
	id, err := x.client.Submit(ctx, path)
	if err != nil {
		return nil, err
	}
	j := &job{group: g, id: id, output: OutputPath(s.Output, id), state: "SUBMITTED"}
	x.logf("slurm: submitted job %s for %s (%d experiments): %s", id, g.Server.ID, len(g.Experiments), path)
	return j, nil
}

// watch polls the queue until every job has ended or ctx ends.
func (x *Executor) watch(ctx context.Context, jobs []*job, ended func(campaign.GroupEnd)) error {
	ticker := time.NewTicker(x.cfg.Poll)
	defer ticker.Stop()
	var failingSince time.Time
	for {
		active := activeIDs(jobs)
		if len(active) == 0 {
			return nil
		}
		err := x.poll(ctx, jobs, active, ended)
		if len(activeIDs(jobs)) < len(active) {
			x.writeJobs(jobs)
		}
		switch {
		case err == nil:
			failingSince = time.Time{}
		case ctx.Err() != nil:
			return nil
		case failingSince.IsZero():
			failingSince = x.cfg.Now()
			x.logf("slurm: %v (trying again)", err)
		case x.cfg.Now().Sub(failingSince) > DefaultQueueGrace:
			return fmt.Errorf("watch the slurm jobs %s (they go on; run again later to pick up what they finish): %w",
				strings.Join(active, ","), err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// poll reads the queue once and reports the jobs that ended.
func (x *Executor) poll(ctx context.Context, jobs []*job, active []string, ended func(campaign.GroupEnd)) error {
	queue, err := x.client.Queue(ctx, active)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.ended {
			continue
		}
		q, done := x.status(ctx, j.id, queue)
		x.observe(j, q)
		if done {
			x.end(j, q, false, ended)
		}
	}
	return nil
}

// status is what is known of a job from the queue, completed by scontrol (or sacct) once it
// has left the queue, or when the queue does not give its exit code; done says it has ended.
func (x *Executor) status(ctx context.Context, id string, queue map[string]Job) (q Job, done bool) {
	q, inQueue := queue[id]
	switch {
	case inQueue && q.Phase() != PhaseEnded:
		return q, false
	case inQueue && q.ExitCode >= 0:
		return q, true
	}
	final, known := x.client.Final(ctx, id)
	switch {
	case known && final.Phase() == PhaseEnded:
		return final, true
	case inQueue:
		return q, true
	case known:
		return final, false // squeue and scontrol disagree for a moment: ask again next time
	}
	return Job{ID: id, State: "GONE", ExitCode: -1}, true
}

// observe prints a job's state when it changes.
func (x *Executor) observe(j *job, q Job) {
	state := q.State
	if q.Reason != "" && q.Phase() == PhasePending {
		state += " (" + q.Reason + ")"
	}
	if state == j.state {
		return
	}
	j.state = state
	where := ""
	if q.Phase() == PhaseRunning && q.Nodes != "" {
		where = " on " + q.Nodes
	}
	if q.Phase() != PhaseEnded && q.State != "GONE" {
		x.logf("slurm: job %s (%s) %s%s", j.id, j.group.Server.ID, state, where)
	}
}

// killedStates are the ends that stopped a job from outside: the experiments it had not
// finished are failed with the job's reason, whatever the job itself wrote.
var killedStates = map[string]bool{"CANCELLED": true, "TIMEOUT": true, "NODE_FAIL": true, "PREEMPTED": true,
	"BOOT_FAIL": true, "DEADLINE": true, "OUT_OF_MEMORY": true, "REVOKED": true}

// end reports a job's end to the campaign.
func (x *Executor) end(j *job, q Job, interrupted bool, ended func(campaign.GroupEnd)) {
	j.ended, j.final, j.endedAt = true, q, x.cfg.Now()
	desc := q.Describe()
	if q.State == "GONE" {
		desc = "left the queue (its end state is unknown: no scontrol record and no accounting)"
	}
	x.logf("slurm: job %s (%s) %s; output in %s", j.id, j.group.Server.ID, desc, j.output)
	end := campaign.GroupEnd{Server: j.group.Server.ID, OK: q.Succeeded(),
		Killed: interrupted || killedStates[q.State] || q.Signal != 0, Detail: x.outputTail(j)}
	if !end.OK {
		end.Reason = fmt.Sprintf("slurm job %s %s", j.id, desc)
		if interrupted {
			end.Reason = fmt.Sprintf("interrupted: slurm job %s cancelled", j.id)
		}
	}
	ended(end)
}

// outputTail is the last lines of a job's output file.
func (x *Executor) outputTail(j *job) string {
	data, err := os.ReadFile(j.output)
	if err != nil {
		return fmt.Sprintf("(no output file %s: %v)", j.output, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > outputTailLines {
		lines = lines[len(lines)-outputTailLines:]
	}
	return fmt.Sprintf("last lines of %s:\n%s", j.output, strings.Join(lines, "\n"))
}

// cancel cancels every job still alive and waits until they have left the queue.
func (x *Executor) cancel(ctx context.Context, jobs []*job, ended func(campaign.GroupEnd)) {
	active := activeIDs(jobs)
	if len(active) == 0 {
		return
	}
	x.logf("slurm: cancelling jobs %s", strings.Join(active, ", "))
	if err := x.client.Cancel(ctx, active); err != nil {
		x.logf("slurm: %v", err)
	}
	deadline := x.cfg.Now().Add(x.cfg.CancelWait)
	step := min(x.cfg.Poll, time.Second)
	for len(active) > 0 && x.cfg.Now().Before(deadline) {
		time.Sleep(step)
		queue, err := x.client.Queue(ctx, active)
		if err != nil {
			continue
		}
		for _, j := range jobs {
			if j.ended {
				continue
			}
			if q, done := x.status(ctx, j.id, queue); done {
				x.end(j, q, true, ended)
			}
		}
		active = activeIDs(jobs)
	}
	if len(active) > 0 {
		x.logf("slurm: jobs %s are still in the queue after %s; check them with squeue", strings.Join(active, ", "), x.cfg.CancelWait)
		for _, j := range jobs {
			if !j.ended {
				x.end(j, Job{ID: j.id, State: "CANCELLED", Reason: "still leaving the queue", ExitCode: -1}, true, ended)
			}
		}
	}
}

func activeIDs(jobs []*job) []string {
	var ids []string
	for _, j := range jobs {
		if !j.ended {
			ids = append(ids, j.id)
		}
	}
	return ids
}

func (x *Executor) logf(format string, args ...any) {
	fmt.Fprintf(x.cfg.Log, format+"\n", args...)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// jobRecord is one entry of results/slurm/jobs.json.
type jobRecord struct {
	Server      string    `json:"server"`
	JobID       string    `json:"job_id"`
	Script      string    `json:"script"`
	Output      string    `json:"output"`
	Experiments []string  `json:"experiments"`
	State       string    `json:"state"`
	Ended       time.Time `json:"ended_at,omitzero"`
}

// writeJobs records the jobs of this run in results/slurm/jobs.json, for people and scripts
// (scancel, sacct) to find them.
func (x *Executor) writeJobs(jobs []*job) {
	recs := make([]jobRecord, 0, len(jobs))
	for _, j := range jobs {
		r := jobRecord{Server: j.group.Server.ID, JobID: j.id, Script: x.ScriptPath(j.group.Server.ID),
			Output: j.output, State: j.state, Ended: j.endedAt}
		if j.ended {
			r.State = j.final.Describe()
		}
		for _, e := range j.group.Experiments {
			r.Experiments = append(r.Experiments, e.ID)
		}
		recs = append(recs, r)
	}
	if err := results.WriteJSON(filepath.Join(x.cfg.Results, Dir, "jobs.json"), recs); err != nil {
		x.logf("slurm: cannot write jobs.json: %v", err)
	}
}

// plural is the "s" of a count of things other than one.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
