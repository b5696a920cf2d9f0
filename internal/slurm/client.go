package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Runner runs one Slurm command (sbatch, squeue, scontrol, sacct, scancel) and returns its
// standard output; a command that fails returns an error holding its standard error.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// ExecRunner runs the commands as processes, with Env as their environment (nil: this
// process's) in Dir.
type ExecRunner struct {
	Env []string
	Dir string
}

// Run implements Runner.
func (r ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = r.Env, r.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return stdout.Bytes(), &CommandError{Command: name + " " + strings.Join(args, " "), Err: err, Stderr: msg}
	}
	return stdout.Bytes(), nil
}

// CommandError is a Slurm command that failed.
type CommandError struct {
	Command string
	Err     error
	Stderr  string
}

func (e *CommandError) Error() string {
	if e.Stderr == "" {
		return fmt.Sprintf("%s: %v", e.Command, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Command, e.Err, e.Stderr)
}

func (e *CommandError) Unwrap() error { return e.Err }

// Client submits, watches and cancels jobs through a Runner.
type Client struct {
	run      Runner
	textOnly bool // squeue --json failed once: use the text format from then on
}

// NewClient talks to the cluster through r.
func NewClient(r Runner) *Client { return &Client{run: r} }

// Submit submits a batch script file and returns the job id.
func (c *Client) Submit(ctx context.Context, script string) (string, error) {
	out, err := c.run.Run(ctx, "sbatch", "--parsable", script)
	if err != nil {
		return "", fmt.Errorf("submit %s: %w", script, err)
	}
	return ParseSubmit(out)
}

// Queue returns what squeue knows of the given jobs, by id; a job missing from the map has
// left the queue (use Final to learn how it ended). It reads `squeue --json` (Slurm 22.05
// lists every job there whatever the filter, so the list is filtered here) and falls back to
// squeue's text format where JSON is not available.
func (c *Client) Queue(ctx context.Context, ids []string) (map[string]Job, error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	jobs, err := c.queue(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]Job{}
	for _, j := range jobs {
		if want[j.ID] {
			out[j.ID] = j
		}
	}
	return out, nil
}

func (c *Client) queue(ctx context.Context, ids []string) ([]Job, error) {
	list := strings.Join(ids, ",")
	if !c.textOnly {
		out, err := c.run.Run(ctx, "squeue", "--json", "--jobs="+list)
		if err == nil {
			jobs, perr := ParseQueueJSON(out)
			if perr == nil {
				return jobs, nil
			}
			err = perr
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if !isInvalidJob(err) {
			c.textOnly = true // older Slurm, or no JSON plugin: text from now on
		}
	}
	out, err := c.run.Run(ctx, "squeue", "-h", "-t", "all", "--jobs="+list, "-o", QueueFormat)
	if err != nil {
		if isInvalidJob(err) {
			return nil, nil // every job has left the queue
		}
		return nil, fmt.Errorf("squeue: %w", err)
	}
	return ParseQueueText(out)
}

func isInvalidJob(err error) bool {
	var ce *CommandError
	return errors.As(err, &ce) && strings.Contains(ce.Stderr, "Invalid job id")
}

// Final says how a job that left the queue ended: `scontrol show job` while the controller
// remembers it (MinJobAge), else sacct where accounting is kept. ok is false when neither knows.
func (c *Client) Final(ctx context.Context, id string) (Job, bool) {
	if out, err := c.run.Run(ctx, "scontrol", "show", "job", id); err == nil {
		if j, err := ParseScontrol(out); err == nil {
			return j, true
		}
	}
	if out, err := c.run.Run(ctx, "sacct", "-n", "-P", "-X", "-j", id, "-o", "JobID,State,ExitCode,Reason"); err == nil {
		if j, err := ParseSacct(out); err == nil {
			return j, true
		}
	}
	return Job{ID: id, ExitCode: -1}, false
}

// Cancel cancels jobs (scancel sends them SIGTERM, then SIGKILL after the cluster's KillWait).
func (c *Client) Cancel(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := c.run.Run(ctx, "scancel", ids...); err != nil {
		return fmt.Errorf("cancel jobs %s: %w", strings.Join(ids, ","), err)
	}
	return nil
}
