// Package slurm runs campaign work through a Slurm cluster's own scheduler: it renders one
// batch script per server configuration, submits it with sbatch, watches it with squeue (and
// scontrol, and sacct where accounting exists), and cancels it with scancel. The commands run
// through a Runner, so tests can play the cluster; the script rendering is pure.
package slurm

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// GPU request styles (spec.Slurm.GPUFlag).
const (
	GPUFlagGres = "gres" // --gres=gpu:N, per node
	GPUFlagGPUs = "gpus" // --gpus=N, for the whole job
	GPUFlagNone = "none" // no GPU request (the simulator, CPU-only partitions)
)

// Script is one batch job: the #SBATCH options and the llmscale command it runs.
type Script struct {
	JobName     string
	Output      string // path of the job's output file; %j is the job id
	WorkDir     string // the job starts here (.env and relative paths resolve as at submission)
	Partition   string
	Account     string
	TimeLimit   string // as sbatch takes it: 30, 2:00:00, 1-00:00:00
	Nodes       int    // 0 or 1: one node
	CPUsPerTask int    // 0: the cluster's default
	Mem         string // --mem, e.g. 64G; "" the cluster's default
	GPUs        int    // GPUs of the whole job
	GPUFlag     string // gres | gpus | none
	Extra       []string
	Comment     []string // lines of explanation, written as comments
	Setup       []string // shell lines run before the command (module load, venv activation)
	Command     []string // argv of the command the job runs (exec'd, so signals reach it)
}

// ErrUnsafe is wrapped by errors about values that cannot be put in a batch script safely.
var ErrUnsafe = errors.New("unsafe value for a batch script")

var (
	// optionValue is what may follow --option= on an #SBATCH line: sbatch splits those lines
	// on blanks and reads quotes itself, so anything beyond this set is refused.
	optionValue = regexp.MustCompile(`^[A-Za-z0-9_.:,+=@%/\-\[\]]*$`)
	// extraOption is one further option: --name or --name=value, nothing that could start
	// another option or another line.
	extraOption = regexp.MustCompile(`^--?[A-Za-z][A-Za-z0-9-]*(=[A-Za-z0-9_.:,+=@%/\-\[\]|&*!()]*)?$`)
)

// Render writes the batch script. It refuses values that could break out of an #SBATCH line
// or inject shell; the command's words are quoted.
func Render(s Script) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	for _, o := range s.options() {
		b.WriteString("#SBATCH " + o + "\n")
	}
	for _, c := range s.Comment {
		b.WriteString("# " + c + "\n")
	}
	b.WriteString("set -e\n")
	for _, line := range s.Setup {
		b.WriteString(line + "\n")
	}
	b.WriteString("exec " + QuoteArgs(s.Command) + "\n")
	return b.String(), nil
}

// options are the #SBATCH options, in a fixed order.
func (s Script) options() []string {
	opts := []string{"--job-name=" + s.JobName, "--output=" + s.Output}
	if s.WorkDir != "" {
		opts = append(opts, "--chdir="+s.WorkDir)
	}
	opts = append(opts, fmt.Sprintf("--nodes=%d", max(s.Nodes, 1)), "--ntasks-per-node=1")
	if s.CPUsPerTask > 0 {
		opts = append(opts, fmt.Sprintf("--cpus-per-task=%d", s.CPUsPerTask))
	}
	if s.Mem != "" {
		opts = append(opts, "--mem="+s.Mem)
	}
	if g := s.gpuOption(); g != "" {
		opts = append(opts, g)
	}
	for _, o := range []struct{ name, value string }{{"partition", s.Partition}, {"account", s.Account}, {"time", s.TimeLimit}} {
		if o.value != "" {
			opts = append(opts, "--"+o.name+"="+o.value)
		}
	}
	opts = append(opts, "--export=ALL")
	return append(opts, s.Extra...)
}

// gpuOption requests the GPUs: --gres is per node, so a job over several nodes asks each
// node for its share.
func (s Script) gpuOption() string {
	if s.GPUs <= 0 {
		return ""
	}
	switch s.GPUFlag {
	case GPUFlagGPUs:
		return fmt.Sprintf("--gpus=%d", s.GPUs)
	case GPUFlagNone:
		return ""
	}
	nodes := max(s.Nodes, 1)
	return fmt.Sprintf("--gres=gpu:%d", (s.GPUs+nodes-1)/nodes)
}

// check refuses every value that could change the script's meaning.
func (s Script) check() error {
	var errs []error
	value := func(what, v string) {
		if !optionValue.MatchString(v) {
			errs = append(errs, fmt.Errorf("%w: %s %q: use letters, digits and _ . : , + = @ %% / - [ ] only", ErrUnsafe, what, v))
		}
	}
	value("job name", s.JobName)
	value("output path", s.Output)
	value("working directory", s.WorkDir)
	value("partition", s.Partition)
	value("account", s.Account)
	value("time limit", s.TimeLimit)
	value("memory", s.Mem)
	if s.JobName == "" || s.Output == "" {
		errs = append(errs, fmt.Errorf("%w: a job needs a name and an output path", ErrUnsafe))
	}
	switch s.GPUFlag {
	case "", GPUFlagGres, GPUFlagGPUs, GPUFlagNone:
	default:
		errs = append(errs, fmt.Errorf("%w: gpu flag %q: want gres, gpus or none", ErrUnsafe, s.GPUFlag))
	}
	errs = append(errs, s.checkLines()...)
	return errors.Join(errs...)
}

// checkLines refuses extra options that are not one option, lines that would span several,
// and a command that is missing or holds a NUL byte.
func (s Script) checkLines() []error {
	var errs []error
	for _, o := range s.Extra {
		if !extraOption.MatchString(o) {
			errs = append(errs, fmt.Errorf("%w: extra option %q: want one --name=value per entry, without blanks or quotes", ErrUnsafe, o))
		}
	}
	for _, c := range append(append([]string(nil), s.Comment...), s.Setup...) {
		if strings.ContainsAny(c, "\n\r\x00") {
			errs = append(errs, fmt.Errorf("%w: %q spans several lines", ErrUnsafe, c))
		}
	}
	for _, a := range s.Command {
		if strings.ContainsRune(a, 0) {
			errs = append(errs, fmt.Errorf("%w: %q holds a NUL byte", ErrUnsafe, a))
		}
	}
	if len(s.Command) == 0 {
		errs = append(errs, fmt.Errorf("%w: no command", ErrUnsafe))
	}
	return errs
}

// safeWord is a word the shell reads as itself.
var safeWord = regexp.MustCompile(`^[A-Za-z0-9_./:=,+@%-]+$`)

// Quote makes s one shell word that bash reads back as exactly s: single quotes, with each
// single quote written as '\”. Inside single quotes nothing is special, not even newlines.
func Quote(s string) string {
	if safeWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// QuoteArgs quotes every word and joins them with spaces.
func QuoteArgs(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = Quote(a)
	}
	return strings.Join(out, " ")
}

// OutputPath is the output file of a job once its id is known: sbatch's %j replaced, and
// %% read as %.
func OutputPath(pattern, jobID string) string {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '%' && i+1 < len(pattern) {
			switch pattern[i+1] {
			case 'j':
				b.WriteString(jobID)
				i++
				continue
			case '%':
				b.WriteByte('%')
				i++
				continue
			}
		}
		b.WriteByte(pattern[i])
	}
	return b.String()
}

// EscapePercent writes a path so that sbatch reads it as itself in --output (% → %%).
func EscapePercent(path string) string { return strings.ReplaceAll(path, "%", "%%") }
