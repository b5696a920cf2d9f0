package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the test servers: with LLMSCALE_TEST_SERVER set it becomes one.
func TestMain(m *testing.M) {
	if mode := os.Getenv("LLMSCALE_TEST_SERVER"); mode != "" {
		os.Exit(testServer(mode))
	}
	os.Exit(m.Run())
}

// testServer is a tiny server with a behaviour: healthy, never (never healthy), exit (dies at
// once), stubborn (ignores SIGTERM). A healthy server starts a grandchild (a sleeping copy of
// itself in mode "sleep") and writes its pid to LLMSCALE_TEST_CHILD, to check that stopping the
// group stops workers too.
func testServer(mode string) int {
	switch mode {
	case "sleep":
		time.Sleep(time.Hour)
		return 0
	case "exit":
		fmt.Println("boom: cannot load model")
		return 3
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
	}
	if path := os.Getenv("LLMSCALE_TEST_CHILD"); path != "" {
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), "LLMSCALE_TEST_SERVER=sleep")
		if err := child.Start(); err == nil {
			os.WriteFile(path, []byte(strconv.Itoa(child.Process.Pid)), 0o644)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		if mode == "never" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/v1/completions", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"choices":[{"text":"hi"}]}`)
	})
	fmt.Println("test server up")
	err := http.ListenAndServe("127.0.0.1:"+os.Getenv("LLMSCALE_TEST_PORT"), mux)
	fmt.Println(err)
	return 1
}

func startTestServer(t *testing.T, mode string, grace time.Duration) (*Process, Readiness, string) {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	childFile := filepath.Join(dir, "child.pid")
	c := Command{Argv: []string{os.Args[0]}, Port: port,
		Env: []string{"LLMSCALE_TEST_SERVER=" + mode, "LLMSCALE_TEST_PORT=" + strconv.Itoa(port), "LLMSCALE_TEST_CHILD=" + childFile}}
	p, err := Start(c, Options{LogPath: filepath.Join(dir, "server.log"), Environ: os.Environ(), StopGrace: grace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	r := Readiness{BaseURL: fmt.Sprintf("http://127.0.0.1:%d", port), Model: "m", Timeout: 20 * time.Second, Poll: 20 * time.Millisecond}
	return p, r, childFile
}

// alive tells whether a process runs; a zombie (dead, not yet reaped by whoever adopted it)
// counts as dead.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) == 0 || fields[0] != "Z"
}

func TestStartReadyStopKillsTheGroup(t *testing.T) {
	t.Parallel()
	p, r, childFile := startTestServer(t, "healthy", 5*time.Second)
	if err := p.WaitReady(context.Background(), r); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	var child int
	for deadline := time.Now().Add(5 * time.Second); child == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(childFile)
		child, _ = strconv.Atoi(string(b))
	}
	if child == 0 || !alive(child) {
		t.Fatalf("grandchild %d not running", child)
	}
	p.Stop()
	if alive(p.Pid()) {
		t.Errorf("server %d alive after Stop", p.Pid())
	}
	for deadline := time.Now().Add(5 * time.Second); alive(child) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
	}
	if alive(child) {
		t.Errorf("grandchild %d alive after Stop: the process group was not stopped", child)
	}
}

func TestNeverReadyTimesOut(t *testing.T) {
	t.Parallel()
	p, r, _ := startTestServer(t, "never", time.Second)
	r.Timeout = 2 * time.Second
	err := p.WaitReady(context.Background(), r)
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "HTTP 503") || !strings.Contains(err.Error(), "test server up") {
		t.Fatalf("WaitReady = %v, want ErrNotReady with the 503 and the log tail", err)
	}
}

func TestExitFailsFastWithLogTail(t *testing.T) {
	t.Parallel()
	p, r, _ := startTestServer(t, "exit", time.Second)
	start := time.Now()
	err := p.WaitReady(context.Background(), r)
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "boom: cannot load model") {
		t.Fatalf("WaitReady = %v, want ErrExited with the log's last lines", err)
	}
	if waited := time.Since(start); waited > r.Timeout/2 {
		t.Errorf("waited %v for a server that died at once", waited)
	}
}

func TestStubbornServerIsKilled(t *testing.T) {
	t.Parallel()
	p, r, _ := startTestServer(t, "stubborn", 300*time.Millisecond)
	if err := p.WaitReady(context.Background(), r); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	p.Stop()
	if alive(p.Pid()) {
		t.Fatalf("server %d survived SIGKILL", p.Pid())
	}
	if !strings.Contains(LogTail(p.logPath, 5), "sending SIGKILL") {
		t.Errorf("log does not record the SIGKILL:\n%s", LogTail(p.logPath, 5))
	}
}

func TestLogTail(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "log")
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	os.WriteFile(path, []byte(b.String()), 0o644)
	if got, want := LogTail(path, 3), "line 97\nline 98\nline 99"; got != want {
		t.Errorf("LogTail = %q, want %q", got, want)
	}
	if got := LogTail(filepath.Join(t.TempDir(), "none"), 3); !strings.Contains(got, "no log") {
		t.Errorf("LogTail of a missing file = %q", got)
	}
}

// TestWaitReadyExternalTimesOut: an endpoint llmscale did not launch (engine external) that
// never becomes ready ends with ErrNotReady after the timeout; it used to be polled forever.
func TestWaitReadyExternalTimesOut(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	done := make(chan error, 1)
	go func() {
		done <- WaitReady(context.Background(), Readiness{BaseURL: srv.URL, Model: "m", Timeout: 300 * time.Millisecond, Poll: 50 * time.Millisecond})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "HTTP 503") {
			t.Fatalf("WaitReady = %v, want ErrNotReady with the 503", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("WaitReady did not return within 30s of a 300ms timeout")
	}
}

func TestLookPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exe := filepath.Join(dir, "my-server")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "not-exec"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/nonexistent", "PATH=" + dir + ":/usr/bin"}
	for _, c := range []struct{ name, want string }{
		{"my-server", exe}, {"not-exec", "not-exec"}, {"./rel/x", "./rel/x"}, {"missing", "missing"},
	} {
		if got := lookPath(c.name, env); got != c.want {
			t.Errorf("lookPath(%q): got %q, want %q", c.name, got, c.want)
		}
	}
}
