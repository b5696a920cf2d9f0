package loadgen

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
)

// uvicornPython is a Python that can run testdata/uvicorn/app.py: Debian's, where
// python3-uvicorn and python3-starlette install it (.ci/run does), else the first on PATH.
func uvicornPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import uvicorn, starlette").Run() == nil {
			return py
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set, so the uvicorn test must run: install python3-uvicorn and python3-starlette")
	}
	t.Skip("no Python with uvicorn and starlette (Debian: apt-get install python3-uvicorn python3-starlette)")
	return ""
}

// startUvicorn serves testdata/uvicorn/app.py on a loopback socket it inherits, closing idle
// connections after keepAlive, and returns its base URL.
func startUvicorn(t *testing.T, keepAlive time.Duration) string {
	t.Helper()
	py := uvicornPython(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(py, filepath.Join("..", "..", "testdata", "uvicorn", "app.py"), "3",
		strconv.FormatFloat(keepAlive.Seconds(), 'f', -1, 64))
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return "http://" + l.Addr().String()
}

// TestUvicorn runs both clients against uvicorn with h11, the server and HTTP stack vLLM
// runs on: every request streams whole, keep-alive connections are reused, and connections
// uvicorn closed while its users thought are noticed and dialled again, never failed.
func TestUvicorn(t *testing.T) {
	t.Parallel()
	base := startUvicorn(t, time.Second) // requests wait in its listen queue while it starts
	for _, client := range []string{ClientEpoll, ClientNetHTTP} {
		for _, think := range []time.Duration{0, 1500 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s/think=%v", client, think), func(t *testing.T) {
				t.Parallel()
				cfg := tcpConfig(base)
				cfg.Client, cfg.Mode, cfg.Users, cfg.ThinkTime, cfg.MaxTokens = client, loadspec.ModeUsers, 3, think, 8
				cfg.RunTime = 2500*time.Millisecond + 2*think // each user comes back at least once after uvicorn's start
				sink := &MemorySink{}
				sum, err := Run(t.Context(), cfg, sink)
				if err != nil {
					t.Fatal(err)
				}
				rows := sink.Rows()
				for _, r := range rows {
					if !r.OK() || r.Chunks != 8 || r.OutputTokens != 8 || !r.TokensFromUsage || len(r.ITLNs) != 7 {
						t.Fatalf("record %s %q: %d chunks, %d tokens (from usage %v)", r.ErrorKind, r.Error, r.Chunks, r.OutputTokens, r.TokensFromUsage)
					}
				}
				switch {
				case think == 0 && (sum.Connections != 3 || len(rows) < 30):
					t.Errorf("%d connections dialled for %d requests; want 3, kept alive", sum.Connections, len(rows))
				case think > 0 && (len(rows) <= cfg.Users || sum.Connections < int64(len(rows))):
					t.Errorf("%d connections dialled for %d requests; want a new one after each pause (uvicorn closes them after 1 s)", sum.Connections, len(rows))
				}
			})
		}
	}
}
