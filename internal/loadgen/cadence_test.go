//go:build linux

package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/llmscale/llmscale/internal/results"
)

// cadenceServer streams completions on a fixed cadence and records, for every chunk that
// carries a token, the CLOCK_MONOTONIC time just before it wrote it and just after the write
// (and flush) returned, so a client's timing can be checked against what the server really
// did (a busy server falls behind its cadence). The cadence is the first segment of the path:
// /ttft=50ms,itl=10ms,tokens=128/v1/completions. GET /writes returns the recorded times by
// response id, and forgets them.
type cadenceServer struct {
	n      atomic.Int64
	mu     sync.Mutex
	writes map[string]chunkTimes
}

// chunkTimes are a response's write times: the bytes reached the socket between Before[i] and
// After[i].
type chunkTimes struct {
	Arrived       int64 // when the handler began: the server's own clock for its TTFT
	Before, After []int64
}

type cadence struct {
	ttft, itl time.Duration
	tokens    int
	batch     int // chunks written (and flushed) together; 0 means 1
}

func (c cadence) path() string {
	return fmt.Sprintf("/ttft=%v,itl=%v,tokens=%d,batch=%d", c.ttft, c.itl, c.tokens, max(c.batch, 1))
}

func parseCadence(p string) (cadence, error) {
	c := cadence{tokens: 16, batch: 1}
	seg, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	for _, kv := range strings.Split(seg, ",") {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "ttft":
			c.ttft, err = time.ParseDuration(v)
		case "itl":
			c.itl, err = time.ParseDuration(v)
		case "tokens":
			c.tokens, err = strconv.Atoi(v)
		case "batch":
			c.batch, err = strconv.Atoi(v)
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

func monoNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

func (s *cadenceServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/writes" {
		s.mu.Lock()
		defer s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(s.writes)
		s.writes = nil
		return
	}
	start, arrived := time.Now(), monoNow()
	c, err := parseCadence(r.URL.Path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	id := fmt.Sprintf("c-%d", s.n.Add(1))
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	chunk := []byte(`data: {"id":"` + id + `","object":"text_completion","model":"m","choices":[{"index":0,"text":" abc","logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n")
	times := chunkTimes{Arrived: arrived, Before: make([]int64, 0, c.tokens), After: make([]int64, 0, c.tokens)}
	for i := range c.tokens {
		if d := time.Until(start.Add(c.ttft + time.Duration(i)*c.itl)); d > 0 {
			time.Sleep(d)
		}
		times.Before = append(times.Before, monoNow())
		if _, err := w.Write(chunk); err != nil {
			return
		}
		if (i+1)%max(c.batch, 1) == 0 || i == c.tokens-1 {
			fl.Flush()
		}
		times.After = append(times.After, monoNow())
	}
	fmt.Fprintf(w, "data: {\"id\":%q,\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}],\"usage\":null}\n\n", id)
	fmt.Fprintf(w, "data: {\"id\":%q,\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":%d}}\n\ndata: [DONE]\n\n", id, c.tokens)
	s.mu.Lock()
	if s.writes == nil {
		s.writes = map[string]chunkTimes{}
	}
	s.writes[id] = times
	s.mu.Unlock()
}

// serveCadenceChild runs the cadence server as a child process (see startCadenceServer): it
// prints its address and serves until its standard input closes.
func serveCadenceChild() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("ERR", err)
		return
	}
	srv := &http.Server{Handler: &cadenceServer{}}
	go srv.Serve(l)
	fmt.Println("ADDR", l.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
}

// startCadenceServer starts the cadence server: in a child process pinned to CPU core
// LLMSCALE_BENCH_SERVER_CPU with taskset when that variable is set, else in this process.
func startCadenceServer(tb testing.TB) (base string, separate bool) {
	cpu := os.Getenv("LLMSCALE_BENCH_SERVER_CPU")
	if cpu == "" {
		srv := &http.Server{Handler: &cadenceServer{}}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		go srv.Serve(l)
		tb.Cleanup(func() { srv.Close() })
		return "http://" + l.Addr().String(), false
	}
	return startCadenceChild(tb, "taskset", "-c", cpu), true
}

// startCadenceChild runs the cadence server in a child process of this test binary, started
// by the command line argv (with the binary's path appended), and returns its base URL.
func startCadenceChild(tb testing.TB, argv ...string) string {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	argv = append(argv, exe)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "LLMSCALE_CADENCE_CHILD=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the cadence server (%s): %v", strings.Join(argv, " "), err)
	}
	tb.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	if err != nil || !ok {
		tb.Fatalf("cadence server: %q %v", line, err)
	}
	return "http://" + addr
}

func fetchWrites(tb testing.TB, base string) map[string]chunkTimes {
	c := &http.Client{}
	defer c.CloseIdleConnections()
	resp, err := c.Get(base + "/writes")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var w map[string]chunkTimes
	if err := json.NewDecoder(resp.Body).Decode(&w); err != nil {
		tb.Fatal(err)
	}
	return w
}

// timingErrors compares each record's chunk times with the server's write times. monoAtStart
// is CLOCK_MONOTONIC read next to wallAtStart (Unix ns), just before the run started.
type timingErrors struct {
	ttft, itl []float64 // ms: first chunk seen − written; |client gap − server gap|
	missing   int
}

// compareTimes measures against the server's write start (afterWrite false: what the server
// decided, an upper bound of the client's own delay) or its end (a lower bound).
func compareTimes(rows []results.Request, writes map[string]chunkTimes, monoAtStart, wallAtStart int64, afterWrite bool) timingErrors {
	var e timingErrors
	for _, r := range rows {
		t, ok := writes[r.ResponseID]
		w := t.Before
		if afterWrite {
			w = t.After
		}
		if !r.OK() || !ok || len(w) != int(r.Chunks) {
			e.missing++
			continue
		}
		// The run's start on CLOCK_MONOTONIC: its wall time is StartUnixNs − SentNs.
		start := monoAtStart + (r.StartUnixNs - r.SentNs - wallAtStart)
		at := start + r.FirstTokenNs
		e.ttft = append(e.ttft, ms(at-w[0]))
		for i, g := range r.ITLNs {
			d := g - (w[i+1] - w[i])
			if d < 0 {
				d = -d
			}
			e.itl = append(e.itl, ms(d))
		}
	}
	return e
}

// TestTCPCadence: over real TCP, each chunk is seen after the server wrote it, and soon after,
// with either client; the bound is generous because CI machines are shared (the exact checks
// run in fake time).
func TestTCPCadence(t *testing.T) {
	t.Parallel()
	for _, client := range clientsHere(t) {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			srv := &http.Server{Handler: &cadenceServer{}}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(l)
			defer srv.Close()
			base := "http://" + l.Addr().String()
			cfg := tcpConfig(base + cadence{ttft: 50 * time.Millisecond, itl: 10 * time.Millisecond, tokens: 8}.path())
			cfg.RunTime, cfg.Client = 400*time.Millisecond, client
			sink := &MemorySink{}
			mono, wall := monoNow(), time.Now().UnixNano()
			sum, err := Run(context.Background(), cfg, sink)
			if err != nil {
				t.Fatal(err)
			}
			rows := sink.Rows()
			e := compareTimes(rows, fetchWrites(t, base), mono, wall, false)
			if e.missing > 0 || len(e.ttft) != len(rows) {
				t.Fatalf("%d of %d records have no server times", e.missing, len(rows))
			}
			for _, x := range append(e.ttft, e.itl...) {
				if x < -0.5 || x > 1000 { // causality (with 0.5 ms for the clocks' reading), and a generous bound
					t.Fatalf("a chunk seen %.3f ms off the server's write time", x)
				}
			}
			for _, r := range rows {
				if r.TTFT() < 50*time.Millisecond || r.Chunks != 8 || len(r.ITLNs) != 7 || r.OutputTokens != 8 {
					t.Errorf("TTFT %v (the server waits 50 ms), %d chunks, %d tokens", r.TTFT(), r.Chunks, r.OutputTokens)
				}
			}
			if sum.PeakConnections != 2 || sum.Connections != 2 {
				t.Errorf("peak %d connections, %d dialled; want 2 kept alive", sum.PeakConnections, sum.Connections)
			}
			if sum.Client != client {
				t.Errorf("summary's client %q, want %q", sum.Client, client)
			}
		})
	}
}
