package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
)

// ErrExited is returned when the server process ended before it became ready.
var ErrExited = errors.New("server process exited")

// ErrNotReady is returned when the server did not become ready within its startup timeout.
var ErrNotReady = errors.New("server not ready")

// Options are what a process needs besides its command.
type Options struct {
	LogPath   string        // stdout and stderr are appended here
	Environ   []string      // base environment; the command's Env is added to it
	StopGrace time.Duration // SIGTERM, then SIGKILL after this
}

// Process is a running server in its own process group.
type Process struct {
	Command Command
	cmd     *exec.Cmd
	log     *os.File
	logPath string
	grace   time.Duration
	done    chan struct{}
	waitErr error
}

// Start launches the command. Its process group is its own, so stopping it stops its workers
// too; on Linux it gets SIGTERM if llmscale dies (Pdeathsig), so no server outlives a killed
// campaign.
func Start(c Command, opts Options) (*Process, error) {
	if len(c.Argv) == 0 {
		return nil, errors.New("empty command")
	}
	log, err := os.OpenFile(opts.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	fmt.Fprintf(log, "# llmscale %s: %s\n", time.Now().UTC().Format(time.RFC3339), c)
	env := append(append([]string{}, opts.Environ...), c.Env...)
	cmd := exec.Command(lookPath(c.Argv[0], env), c.Argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", c.Argv[0], err)
	}
	p := &Process{Command: c, cmd: cmd, log: log, logPath: opts.LogPath, grace: opts.StopGrace, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		log.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id (and process group id) of the server.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.done }

// ExitError says how the process ended; nil while it runs.
func (p *Process) ExitError() error {
	select {
	case <-p.done:
		if p.waitErr == nil {
			return fmt.Errorf("%w with status 0", ErrExited)
		}
		return fmt.Errorf("%w: %v", ErrExited, p.waitErr)
	default:
		return nil
	}
}

// Stop ends the whole process group: SIGTERM, then SIGKILL after the grace period. It returns
// once the process is gone.
func (p *Process) Stop() {
	select {
	case <-p.done:
		killGroup(p.Pid(), syscall.SIGKILL) // workers it may have left behind
		return
	default:
	}
	killGroup(p.Pid(), syscall.SIGTERM)
	grace := p.grace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	select {
	case <-p.done:
	case <-time.After(grace):
		fmt.Fprintf(p.log, "# llmscale: no exit %s after SIGTERM, sending SIGKILL\n", grace)
		killGroup(p.Pid(), syscall.SIGKILL)
		<-p.done
	}
	killGroup(p.Pid(), syscall.SIGKILL)
}

func killGroup(pgid int, sig syscall.Signal) {
	_ = syscall.Kill(-pgid, sig)
}

// Readiness says how to tell that a server is ready.
type Readiness struct {
	BaseURL string
	Model   string
	API     loadspec.API // completions or chat: the one-token request uses it
	Timeout time.Duration
	Poll    time.Duration // default 500ms
	Client  *http.Client
}

// WaitReady waits until /health answers 200 and a one-token request succeeds. It fails fast
// with the log's last lines if the process exits, and with ErrNotReady after the timeout.
func (p *Process) WaitReady(ctx context.Context, r Readiness) error {
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := WaitReady(ctx, r)
	if exit := p.ExitError(); exit != nil {
		return fmt.Errorf("%w; last lines of %s:\n%s", exit, p.logPath, LogTail(p.logPath, 20))
	}
	if err != nil {
		return fmt.Errorf("%w; last lines of %s:\n%s", err, p.logPath, LogTail(p.logPath, 20))
	}
	return nil
}

// WaitReady polls an endpoint (launched by llmscale or not) until it is ready, r.Timeout
// (when above 0) passes, or ctx ends.
func WaitReady(ctx context.Context, r Readiness) error {
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	poll := r.Poll
	if poll == 0 {
		poll = 500 * time.Millisecond
	}
	noAnswer := errors.New("no answer yet")
	last := noAnswer
	for {
		err := probe(ctx, client, r)
		switch {
		case err == nil:
			return nil
		case ctx.Err() == nil || last == noAnswer:
			last = err // a probe cut short by the deadline says less than the answer before it
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%w after %s: %v", ErrNotReady, r.Timeout, last)
			}
			return fmt.Errorf("%w: %v (%v)", ErrNotReady, ctx.Err(), last)
		case <-time.After(poll):
		}
	}
}

func probe(ctx context.Context, client *http.Client, r Readiness) error {
	if err := get(ctx, client, r.BaseURL+"/health"); err != nil {
		return err
	}
	body := fmt.Sprintf(`{"model":%q,"prompt":"Hello","max_tokens":1}`, r.Model)
	path := "/v1/completions"
	if r.API == loadspec.APIChat {
		body = fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Hello"}],"max_tokens":1}`, r.Model)
		path = "/v1/chat/completions"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.BaseURL+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return do(client, req)
}

func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	return do(client, req)
}

func do(client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return errors.New(strings.TrimSpace(fmt.Sprintf("%s %s: HTTP %d %s", req.Method, req.URL.Path, resp.StatusCode, bytes.TrimSpace(msg))))
	}
	return nil
}

// LogTail returns the last n lines of a log file.
func LogTail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > 64<<10 {
		f.Seek(st.Size()-64<<10, io.SeekStart)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PortFree tells whether a loopback port can be bound now.
func PortFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// lookPath finds a bare program name in the PATH of the environment the server gets (the
// environment llmscale was given, which may differ from its own process's), so that
// `PATH=/opt/llama/bin llmscale run` finds llama-server. A name with a slash, or one not
// found there, is left to exec's own lookup.
func lookPath(name string, env []string) string {
	if strings.ContainsRune(name, '/') {
		return name
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v // the last one wins, as in exec
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return name
}
