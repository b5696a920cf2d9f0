package loadgen

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// workerRows are the records of one worker of an open-loop load: a request every 1/rate
// seconds from offset, each taking 20 ms.
func workerRows(worker int, rate float64, offset, until time.Duration, failEvery int) []results.Request {
	var rows []results.Request
	gap := time.Duration(float64(time.Second) / rate)
	for seq, due := 0, offset; due < until; seq, due = seq+1, due+gap {
		r := results.Request{WorkerID: int32(worker), Seq: int64(seq), Phase: results.PhaseMeasure, DueNs: int64(due),
			SentNs: int64(due), FirstTokenNs: int64(due + 5*time.Millisecond), DoneNs: int64(due + 20*time.Millisecond),
			EndNs: int64(due + 20*time.Millisecond), TTFTNs: int64(5 * time.Millisecond), E2ENs: int64(20 * time.Millisecond),
			PromptTokens: 10, OutputTokens: 4}
		if failEvery > 0 && seq%failEvery == 0 {
			r.ErrorKind, r.Error, r.TTFTNs, r.E2ENs, r.OutputTokens = results.ErrorHTTP, "HTTP 500", 0, 0, 0
		}
		rows = append(rows, r)
	}
	return rows
}

// Three workers each send a third of 30 req/s: the merged summary has every request of all of
// them and the whole rate.
func TestMergeWorkers(t *testing.T) {
	t.Parallel()
	cfg := Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeRate, Rate: 30}, ExperimentID: "e", WorkerCount: 3, RunTime: 4 * time.Second, Arrival: "constant"}}
	var rows []results.Request
	var parts []Summary
	for w := range 3 {
		offset := time.Duration(float64(w) / cfg.Rate * float64(time.Second)) // as the workers' schedules are offset
		rows = append(rows, workerRows(w, cfg.Rate/3, offset, cfg.RunTime, 0)...)
		parts = append(parts, Summary{WorkerID: w, Wall: 5 * time.Second, ClientCPU: time.Second, Cores: 2, Connections: 4,
			Limits: map[bool][]string{true: {"send lag p99 2 ms"}}[w == 1]})
	}
	s := Merge(cfg, rows, parts)
	if s.Sent != 120 || s.Succeeded != 120 || s.Failed != 0 || s.WorkerID != -1 || s.WorkerCount != 3 {
		t.Fatalf("merged counts: sent %d ok %d failed %d worker %d/%d; want 120 sent, all ok", s.Sent, s.Succeeded, s.Failed, s.WorkerID, s.WorkerCount)
	}
	for name, got := range map[string]float64{"request throughput": s.RequestThroughput, "achieved rate": s.AchievedRate,
		"scheduled rate": s.ScheduledRate, "requested rate": s.RequestedRate, "rate": s.Rate} {
		if math.Abs(got-30) > 1e-9 {
			t.Errorf("%s = %v, want 30", name, got)
		}
	}
	if s.OutputThroughput != 120 || s.TTFT.Median != 5 || s.E2E.N != 120 {
		t.Errorf("output %v tok/s, TTFT median %v ms, %d E2E values; want 120, 5, 120", s.OutputThroughput, s.TTFT.Median, s.E2E.N)
	}
	if s.ClientCPU != 3*time.Second || s.Wall != 5*time.Second || s.Connections != 12 {
		t.Errorf("client: cpu %v wall %v connections %d", s.ClientCPU, s.Wall, s.Connections)
	}
	if len(s.Limits) != 1 || !strings.HasPrefix(s.Limits[0], "worker 1: ") {
		t.Errorf("limits %q: want worker 1's, named", s.Limits)
	}
}

// An interrupted worker ends the merged window where it stopped.
func TestMergeInterruptedAndLate(t *testing.T) {
	t.Parallel()
	cfg := Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeRate, Rate: 20}, WorkerCount: 2, RunTime: 4 * time.Second}}
	rows := append(workerRows(0, 10, 0, 2*time.Second, 0), workerRows(1, 10, 50*time.Millisecond, time.Second, 0)...)
	for i := range rows { // worker 1 sent nothing after 1 s: its due requests are missing
		rows[i].SentNs += int64(time.Millisecond)
	}
	s := Merge(cfg, rows, []Summary{{WorkerID: 0}, {WorkerID: 1, Interrupted: true, Summary: stats.Summary{Window: 2 * time.Second}}})
	if !s.Interrupted || s.Window != 2*time.Second {
		t.Fatalf("interrupted %v window %v; want true, 2s", s.Interrupted, s.Window)
	}
	if math.Abs(s.AchievedRate-15) > 1e-9 {
		t.Errorf("achieved rate %v, want 15 (30 requests in 2 s)", s.AchievedRate)
	}
	if s.Sent != 30 || s.SendLag.Median != 1 {
		t.Errorf("sent %d, send lag median %v ms; want 30, 1", s.Sent, s.SendLag.Median)
	}
}

func TestAllFailed(t *testing.T) {
	t.Parallel()
	ok := workerRows(0, 10, 0, time.Second, 0)
	bad := workerRows(0, 10, 0, time.Second, 1)
	notSent := []results.Request{{ErrorKind: results.ErrorNotSent}}
	for name, tc := range map[string]struct {
		rows []results.Request
		want bool
	}{"all ok": {ok, false}, "all failed": {bad, true}, "mixed": {slices.Concat(bad, ok[:1]), false},
		"none sent": {notSent, false}, "nothing": {nil, false}, "failed and not sent": {slices.Concat(bad, notSent), true}} {
		if got := AllFailed(tc.rows); got != tc.want {
			t.Errorf("%s: AllFailed = %v, want %v", name, got, tc.want)
		}
	}
}

// ReadSummary reads back what Summary.JSON wrote.
func TestReadSummary(t *testing.T) {
	t.Parallel()
	want := Summary{WorkerID: 2, WorkerCount: 4, Summary: stats.Summary{Window: 3 * time.Second, Sent: 17},
		Wall: 4500 * time.Millisecond, Interrupted: true, ClientCPU: 1500 * time.Millisecond, Cores: 8, PeakConnections: 3, Connections: 5, PeakInFlight: 3,
		CapWaits: 2, Limits: []string{"x"}, WakeLag: Stat{P99: 0.5, Max: 1.25}, OpenFilesLimit: 1024,
		HostCPUUtil: ptr(0.93), HostSteal: ptr(0.01), HostContended: true, HostSharers: []string{"vllm (pid 7, 1.00 cores)"}, PID: 4242}
	path := filepath.Join(t.TempDir(), SummaryFile(2, 4))
	if err := results.WriteJSON(path, want.JSON()); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSummary(path)
	if err != nil {
		t.Fatal(err)
	}
	got.Phases, got.Failures = nil, nil
	if got.WorkerID != want.WorkerID || got.Window != want.Window || got.Wall != want.Wall || !got.Interrupted ||
		got.ClientCPU != want.ClientCPU || got.Connections != 5 || got.WakeLag.P99 != 0.5 || got.Limits[0] != "x" ||
		got.OpenFilesLimit != 1024 || got.HostCPUUtil == nil || *got.HostCPUUtil != 0.93 || got.HostSteal == nil ||
		*got.HostSteal != 0.01 || !got.HostContended || !slices.Equal(got.HostSharers, want.HostSharers) || got.PID != 4242 {
		t.Errorf("ReadSummary = %+v, want %+v", got, want)
	}
	if _, err := ReadSummary(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("a missing file read without error")
	}
}

func ptr(v float64) *float64 { return &v }

// Workers on machines that fared differently: the merged summary has the most contended
// machine's CPU and steal, every process that shared a worker's cores, the lowest open-file
// limit, and counts the requests every worker failed on its own limits, so that a load whose
// workers mostly failed in the client is told apart from one the server failed.
func TestSharerPID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{
		"vllm (pid 7, 1.00 cores)":                      7,
		"odd (name) (pid 12345, 0.01 cores)":            12345,
		"(pid 3, 0.5 cores) in a name (pid 9, 2 cores)": 9,
		"no pid here":             0,
		"broken (pid x, 1 cores)": 0,
	} {
		if got := sharerPID(in); got != want {
			t.Errorf("sharerPID(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestMergeHostAndClientFailures(t *testing.T) {
	t.Parallel()
	cfg := Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeRate, Rate: 20}, ExperimentID: "e", WorkerCount: 2, RunTime: 2 * time.Second, Arrival: "constant"}}
	tests := []struct {
		name          string
		parts         []Summary
		clientEvery   int // every n-th request of each worker fails with EMFILE; 0 none
		wantCPU       *float64
		wantSteal     *float64
		wantContended bool
		wantSharers   []string
		wantFiles     uint64
		wantMost      bool
	}{
		{"one busy host", []Summary{
			{WorkerID: 0, HostCPUUtil: ptr(0.40), HostSteal: ptr(0.06), OpenFilesLimit: 4096, HostSharers: []string{"a (pid 1, 0.50 cores)"}},
			{WorkerID: 1, HostCPUUtil: ptr(0.95), HostSteal: ptr(0.00), HostContended: true, OpenFilesLimit: 1024,
				HostSharers: []string{"a (pid 1, 0.50 cores)", "b (pid 2, 1.00 cores)"}},
		}, 0, ptr(0.95), ptr(0.06), true, []string{"a (pid 1, 0.50 cores)", "b (pid 2, 1.00 cores)"}, 1024, false},
		// Two workers on one machine each see the other on its cores: the load generator
		// itself, not a sharer; the simulator beside them is one.
		{"workers on one machine", []Summary{
			{WorkerID: 0, PID: 100, HostCPUUtil: ptr(0.5), HostSteal: ptr(0), HostSharers: []string{"llmscale (pid 101, 0.90 cores)", "llmscale (pid 7, 0.40 cores)"}},
			{WorkerID: 1, PID: 101, HostCPUUtil: ptr(0.5), HostSteal: ptr(0), HostSharers: []string{"llmscale (pid 100, 0.90 cores)"}},
		}, 0, ptr(0.5), ptr(0.0), false, []string{"llmscale (pid 7, 0.40 cores)"}, 0, false},
		{"host not sampled by one worker", []Summary{{WorkerID: 0}, {WorkerID: 1, HostCPUUtil: ptr(0.2), HostSteal: ptr(0.01)}},
			0, ptr(0.2), ptr(0.01), false, nil, 0, false},
		{"no host figures", []Summary{{WorkerID: 0}, {WorkerID: 1}}, 0, nil, nil, false, nil, 0, false},
		{"most requests failed on the client", []Summary{{WorkerID: 0}, {WorkerID: 1}}, 1, nil, nil, false, nil, 0, true},
		{"a third failed on the client", []Summary{{WorkerID: 0}, {WorkerID: 1}}, 3, nil, nil, false, nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rows []results.Request
			for w := range 2 {
				for i, r := range workerRows(w, cfg.Rate/2, 0, cfg.RunTime, 0) {
					if tt.clientEvery > 0 && i%tt.clientEvery == 0 {
						r.ErrorKind, r.Error, r.OutputTokens = results.ErrorClient, "the client ran out of file descriptors", 0
					}
					rows = append(rows, r)
				}
			}
			s := Merge(cfg, rows, tt.parts)
			eq := func(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
			if !eq(s.HostCPUUtil, tt.wantCPU) || !eq(s.HostSteal, tt.wantSteal) || s.HostContended != tt.wantContended {
				t.Errorf("host cpu %v steal %v contended %v, want %v %v %v", s.HostCPUUtil, s.HostSteal, s.HostContended,
					tt.wantCPU, tt.wantSteal, tt.wantContended)
			}
			if !slices.Equal(s.HostSharers, tt.wantSharers) || s.OpenFilesLimit != tt.wantFiles {
				t.Errorf("sharers %q, open files %d; want %q, %d", s.HostSharers, s.OpenFilesLimit, tt.wantSharers, tt.wantFiles)
			}
			want := 0
			for _, r := range rows {
				if r.ErrorKind == results.ErrorClient {
					want++
				}
			}
			if s.ClientFailures != want || s.MostFailedOnClient() != tt.wantMost {
				t.Errorf("client failures %d (most: %v) of %d sent, want %d (most: %v)", s.ClientFailures, s.MostFailedOnClient(),
					s.Sent, want, tt.wantMost)
			}
		})
	}
}

// TestWorkersClient: the merged summary names the client the workers ran, every one of them
// where they differ, and the configured one when none said.
func TestWorkersClient(t *testing.T) {
	for _, tt := range []struct {
		clients []string
		want    string
	}{
		{[]string{ClientIOURing, ClientIOURing}, ClientIOURing},
		{[]string{ClientIOURing, ClientEpoll, ClientIOURing}, "epoll,io_uring"},
		{[]string{"", ""}, ClientNetHTTP},
		{nil, ClientNetHTTP},
	} {
		parts := make([]Summary, len(tt.clients))
		for i, c := range tt.clients {
			parts[i].Client = c
		}
		if got := workersClient(ClientNetHTTP, parts); got != tt.want {
			t.Errorf("workers %q: %q, want %q", tt.clients, got, tt.want)
		}
	}
}
