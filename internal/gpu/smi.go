package gpu

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// SMI runs nvidia-smi.
type SMI struct {
	Path    string        // the binary; "" is "nvidia-smi" found on PATH
	Env     []string      // the child's environment; nil inherits llmscale's
	Timeout time.Duration // limit of a one-shot command; 0 is DefaultSMITimeout
}

// DefaultSMITimeout bounds one-shot nvidia-smi commands (a hung driver must not hang a run).
const DefaultSMITimeout = 30 * time.Second

// SMIError is a failed nvidia-smi command with what it printed.
type SMIError struct {
	Args   []string
	Err    error  // *exec.ExitError, exec.ErrNotFound, a timeout…
	Output string // stdout and stderr, trimmed
}

func (e *SMIError) Error() string {
	msg := firstLine(e.Output)
	if msg == "" {
		return fmt.Sprintf("nvidia-smi %s: %v", strings.Join(e.Args, " "), e.Err)
	}
	return fmt.Sprintf("nvidia-smi %s: %v: %s", strings.Join(e.Args, " "), e.Err, msg)
}

func (e *SMIError) Unwrap() error { return e.Err }

func (s SMI) path() string {
	if s.Path == "" {
		return "nvidia-smi"
	}
	return s.Path
}

func (s SMI) command(ctx context.Context, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.path(), args...)
	cmd.Env = s.Env
	cmd.WaitDelay = time.Second
	setDeathSignal(cmd)
	return cmd
}

// Output runs nvidia-smi once and returns its standard output.
func (s SMI) Output(ctx context.Context, args ...string) ([]byte, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSMITimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := s.command(ctx, args)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		out := strings.TrimSpace(stderr.String() + "\n" + stdout.String())
		return stdout.Bytes(), &SMIError{Args: args, Err: err, Output: out}
	}
	return stdout.Bytes(), nil
}

// Stream runs a long-running nvidia-smi (-lms, dmon) and hands each line of its output to
// line as it comes, until ctx is done (then it returns nil) or the child exits (an error).
func (s SMI) Stream(ctx context.Context, args []string, line func(string)) error {
	cmd := s.command(ctx, args)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return &SMIError{Args: args, Err: err}
	}
	stderr := &tail{max: 4096}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return &SMIError{Args: args, Err: err}
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	last := ""
	for sc.Scan() {
		last = sc.Text()
		line(last)
	}
	err = cmd.Wait()
	if ctx.Err() != nil {
		return nil
	}
	if err == nil {
		err = errors.New("exited")
	}
	return &SMIError{Args: args, Err: err, Output: strings.TrimSpace(stderr.String() + "\n" + last)}
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return clip(strings.TrimSpace(s))
}
