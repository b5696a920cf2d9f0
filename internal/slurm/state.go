package slurm

import (
	"fmt"
	"strings"
)

// Phase is where a job is in its life, as llmscale cares about it.
type Phase int

// Phases of a job.
const (
	PhaseUnknown Phase = iota // a state this package does not know; treated as still alive
	PhasePending              // waiting for resources, held, requeued
	PhaseRunning              // running, or finishing (completing, stage-out)
	PhaseEnded                // a final state: it will not run again
)

func (p Phase) String() string {
	return [...]string{"unknown", "pending", "running", "ended"}[p]
}

// Job is what the cluster says about one job.
type Job struct {
	ID       string
	Name     string
	State    string // Slurm's state name in capitals: PENDING, RUNNING, COMPLETED, CANCELLED…
	Reason   string // Slurm's reason: Resources, Priority, TimeLimit, NonZeroExitCode…; "" for None
	ExitCode int    // the batch script's exit code; -1 when unknown
	Signal   int    // the signal that ended it; 0 when none
	Nodes    string
}

// Phase maps the job's state to its phase.
func (j Job) Phase() Phase { return PhaseOf(j.State) }

// Succeeded reports whether the job ended normally with exit code 0.
func (j Job) Succeeded() bool { return j.State == "COMPLETED" && j.ExitCode <= 0 && j.Signal == 0 }

// Describe says in a few words how the job ended (or where it is): "CANCELLED",
// "FAILED (exit code 1)", "TIMEOUT (TimeLimit)".
func (j Job) Describe() string {
	var extra []string
	if j.ExitCode > 0 {
		extra = append(extra, fmt.Sprintf("exit code %d", j.ExitCode))
	}
	if j.Signal > 0 {
		extra = append(extra, fmt.Sprintf("signal %d", j.Signal))
	}
	if j.Reason != "" && j.Reason != "NonZeroExitCode" {
		extra = append(extra, j.Reason)
	}
	if len(extra) == 0 {
		return j.State
	}
	return j.State + " (" + strings.Join(extra, ", ") + ")"
}

// PhaseOf maps a Slurm job state (any case; a "+" suffix such as CANCELLED+ is ignored, and
// "CANCELLED by 0" reads as CANCELLED) to its phase.
func PhaseOf(state string) Phase {
	state = normState(state)
	switch state {
	case "PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SUSPENDED", "RESV_DEL_HOLD", "STOPPED", "POWER_UP_NODE":
		return PhasePending
	case "RUNNING", "CONFIGURING", "COMPLETING", "STAGE_OUT", "RESIZING", "SIGNALING", "UPDATE_DB":
		return PhaseRunning
	case "COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL",
		"DEADLINE", "OUT_OF_MEMORY", "SPECIAL_EXIT", "REVOKED":
		return PhaseEnded
	}
	return PhaseUnknown
}

func normState(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	s, _, _ = strings.Cut(s, " ")
	return strings.TrimRight(s, "+")
}
