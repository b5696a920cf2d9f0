package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/workload"
)

func testPrompts(n int) []workload.Prompt {
	out := make([]workload.Prompt, n)
	for i := range out {
		out[i] = workload.Prompt{Text: "hello world number " + strings.Repeat("x", i%5), Tokens: 4}
	}
	return out
}

// baseConfig is a short concurrency run against the in-memory server.
func baseConfig(dial func(context.Context, string, string) (net.Conn, error)) Config {
	return Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeConcurrency, Concurrency: 2}, Targets: []string{"http://fake:8000"}, Model: "m", RunTime: time.Second, MaxTokens: 8, ExperimentID: "exp1", Grace: time.Second}, Prompts: testPrompts(3), Dial: dial, Waiter: TimerWaiter{}}
}

// runFake runs cfg against srv inside a synctest bubble and returns the summary, error and rows.
func runFake(t *testing.T, srv *fakeServer, edit func(*Config)) (Summary, error, []results.Request) {
	t.Helper()
	var (
		sum  Summary
		err  error
		rows []results.Request
	)
	synctest.Test(t, func(t *testing.T) {
		dial, stop := serveInMemory(srv)
		defer stop()
		cfg := baseConfig(dial)
		if edit != nil {
			edit(&cfg)
		}
		sink := &MemorySink{}
		sum, err = Run(t.Context(), cfg, sink)
		if !sink.Closed() {
			t.Error("the sink was not closed")
		}
		rows = sink.Rows()
	})
	return sum, err, rows
}

// runTCP runs cfg with the epoll client against srv on a real loopback listener, in real
// time (the event loop reads real sockets, which a synctest bubble does not have).
func runTCP(t *testing.T, srv http.Handler, edit func(*Config)) (Summary, error, []results.Request) {
	t.Helper()
	web := httptest.NewServer(srv)
	defer web.Close()
	cfg := baseConfig(nil)
	cfg.Targets, cfg.Waiter, cfg.Client = []string{web.URL}, nil, ClientEpoll
	if edit != nil {
		edit(&cfg)
	}
	sink := &MemorySink{}
	sum, err := Run(t.Context(), cfg, sink)
	if !sink.Closed() {
		t.Error("the sink was not closed")
	}
	return sum, err, sink.Rows()
}

// TestCadence: against a server with a fixed cadence, in fake time, every figure is exact.
func TestCadence(t *testing.T) {
	t.Parallel()
	for _, api := range []loadspec.API{loadspec.APICompletions, loadspec.APIChat} {
		t.Run(string(api), func(t *testing.T) {
			t.Parallel()
			srv := &fakeServer{api: api, ttft: 50 * time.Millisecond, itl: 10 * time.Millisecond, roleDelta: api == loadspec.APIChat}
			sum, err, rows := runFake(t, srv, func(c *Config) { c.API = api })
			if err != nil {
				t.Fatal(err)
			}
			// 2 slots × 1 s / 120 ms per request: 8 full rounds, and a 9th that ends in the grace.
			if len(rows) != 18 {
				t.Fatalf("%d records, want 18", len(rows))
			}
			seqs := map[int64]bool{}
			for _, r := range rows {
				seqs[r.Seq] = true
				if !r.OK() {
					t.Fatalf("request %d failed: %s %s", r.Seq, r.ErrorKind, r.Error)
				}
				if r.TTFT() != 50*time.Millisecond || r.E2E() != 120*time.Millisecond || r.TPOTNs != int64(10*time.Millisecond) {
					t.Errorf("request %d: TTFT %v E2E %v TPOT %v; want 50ms, 120ms, 10ms", r.Seq, r.TTFT(), r.E2E(), time.Duration(r.TPOTNs))
				}
				if len(r.ITLNs) != 7 || r.ITLNs[0] != int64(10*time.Millisecond) || r.Chunks != 8 {
					t.Errorf("request %d: ITL %v over %d chunks, want 7 gaps of 10ms", r.Seq, r.ITLNs, r.Chunks)
				}
				if r.OutputTokens != 8 || r.PromptTokens != fakePromptTokens || !r.TokensFromUsage ||
					r.ChunkTokensSource != results.ChunkTokensOnePerChunk || r.FinishReason != "length" {
					t.Errorf("request %d: tokens %d/%d from usage %v, chunk tokens %s, finish %q", r.Seq,
						r.PromptTokens, r.OutputTokens, r.TokensFromUsage, r.ChunkTokensSource, r.FinishReason)
				}
				checkVLLMTimes(t, api, r)
				if r.ResponseID == "" || r.HTTPStatus != 200 || r.StartUnixNs == 0 || r.Target != "http://fake:8000" {
					t.Errorf("request %d: id %q status %d start %d target %q", r.Seq, r.ResponseID, r.HTTPStatus, r.StartUnixNs, r.Target)
				}
			}
			if len(seqs) != len(rows) {
				t.Errorf("sequence numbers repeat: %d distinct of %d", len(seqs), len(rows))
			}
			if sum.TTFT.P99 != 50 || sum.ITL.Median != 10 || sum.TPOT.Mean != 10 || sum.E2E.Max != 120 {
				t.Errorf("summary TTFT p99 %v ITL median %v TPOT mean %v E2E max %v", sum.TTFT.P99, sum.ITL.Median, sum.TPOT.Mean, sum.E2E.Max)
			}
			// vLLM's client times every chunk with choices: the empty finish chunk that follows
			// the last token (a 0 gap), and on chat the role delta sent at once, its first token
			// (so the 50 ms to the first content chunk is one more gap).
			wantTTFT, wantITL := 50.0, 70.0/8
			if api == loadspec.APIChat {
				wantTTFT, wantITL = 0, 120.0/9
			}
			if !sum.VLLMDiffers || sum.TTFTvLLM.Mean != wantTTFT || math.Abs(sum.ITLvLLM.Mean-wantITL) > 1e-9 {
				t.Errorf("vLLM's figures: differ %v, TTFT mean %v, ITL mean %v; want true, %v, %v",
					sum.VLLMDiffers, sum.TTFTvLLM.Mean, sum.ITLvLLM.Mean, wantTTFT, wantITL)
			}
			if sum.JSON().MeanITLvLLMMs == nil {
				t.Error("summary.json lacks mean_itl_vllm_ms")
			}
			if sum.Succeeded != 16 || sum.OutputTokens != 128 || sum.RequestThroughput != 16 {
				t.Errorf("summary: %d succeeded, %d output tokens, %v req/s; want 16, 128, 16", sum.Succeeded, sum.OutputTokens, sum.RequestThroughput)
			}
		})
	}
}

func TestRequestBody(t *testing.T) {
	t.Parallel()
	srv := &fakeServer{ttft: time.Millisecond}
	_, err, _ := runFake(t, srv, func(c *Config) {
		c.IgnoreEOS, c.ContinuousUsage = true, true
		c.RunTime, c.MaxRequests = NoTimeLimit, 1 // one request, however slow the host
		c.Prompts = []workload.Prompt{{TokenIDs: []int{1, 2, 3}, Tokens: 3, MaxTokens: 5}}
	})
	if err != nil {
		t.Fatal(err)
	}
	b := srv.bodies[0]
	ids, _ := b.Prompt.([]any)
	if b.Model != "m" || len(ids) != 3 || b.MaxTokens != 5 || !b.Stream || !b.IgnoreEOS ||
		!b.StreamOptions.IncludeUsage || !b.StreamOptions.ContinuousUsageStats {
		t.Fatalf("request body %+v", b)
	}
}

// TestChunkTokens: chunks that carry several tokens are counted per chunk, exactly when the
// server sends usage on every chunk, approximately otherwise.
func TestChunkTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		srv        *fakeServer
		want       []int32
		source     string
		fromUsage  bool
		wantOutput int32
	}{
		{"continuous usage", &fakeServer{perChunk: 3, continuous: true}, []int32{3, 3, 2}, results.ChunkTokensContinuousUsage, true, 8},
		{"final usage only", &fakeServer{perChunk: 3}, []int32{3, 3, 2}, results.ChunkTokensCounted, true, 8},
		{"no usage", &fakeServer{perChunk: 3, noUsage: true}, []int32{3, 3, 2}, results.ChunkTokensCounted, false, 8},
		{"one per chunk", &fakeServer{}, []int32{1, 1, 1, 1, 1, 1, 1, 1}, results.ChunkTokensOnePerChunk, true, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := tt.srv
			srv.ttft, srv.itl = 5*time.Millisecond, 5*time.Millisecond
			_, err, rows := runFake(t, srv, func(c *Config) { c.RunTime = 20 * time.Millisecond })
			if err != nil {
				t.Fatal(err)
			}
			r := rows[0]
			if !equal(r.ChunkTokens, tt.want) || r.ChunkTokensSource != tt.source || r.TokensFromUsage != tt.fromUsage || r.OutputTokens != tt.wantOutput {
				t.Fatalf("chunk tokens %v (%s), output %d from usage %v; want %v (%s), %d, %v", r.ChunkTokens,
					r.ChunkTokensSource, r.OutputTokens, r.TokensFromUsage, tt.want, tt.source, tt.wantOutput, tt.fromUsage)
			}
			if !tt.fromUsage && r.PromptTokens != 4 {
				t.Errorf("prompt tokens %d, want the prompt's own count 4", r.PromptTokens)
			}
		})
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFailureKinds: every bad server gives failed records of the right kind, and the run goes
// on — with net/http's client in fake time, and with the epoll client over real TCP.
func TestFailureKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		srv    *fakeServer
		kind   string
		status int32
		msg    string
		edit   func(*Config) // more configuration, after the common one
	}{
		{"429", &fakeServer{fault: "status", status: 429}, results.ErrorHTTP, 429, "HTTP 429: status 429 from the fake server", nil},
		{"500", &fakeServer{fault: "status", status: 500}, results.ErrorHTTP, 500, "HTTP 500", nil},
		{"404", &fakeServer{fault: "status", status: 404}, results.ErrorHTTP, 404, "HTTP 404", nil},
		{"garbage", &fakeServer{fault: "garbage"}, results.ErrorBadStream, 200, "not an event stream", nil},
		{"json instead of a stream", &fakeServer{fault: "json"}, results.ErrorBadStream, 200, "application/json", nil},
		{"data not json", &fakeServer{fault: "notjson"}, results.ErrorBadStream, 200, "hello", nil},
		{"error inside the stream", &fakeServer{fault: "error_event"}, results.ErrorStreamError, 200, "EngineCore died", nil},
		{"llama.cpp error line", &fakeServer{fault: "llamacpp_error"}, results.ErrorStreamError, 200, "context size exceeded", nil},
		{"no [DONE]", &fakeServer{noDone: true}, results.ErrorNoDone, 200, "finish_reason length", nil},
		{"cut mid-stream", &fakeServer{fault: "cut"}, results.ErrorStreamBroken, 200, "", nil},
		{"stall", &fakeServer{fault: "stall"}, results.ErrorStall, 200, "stall timeout 200ms", nil},
		{"hang before headers", &fakeServer{fault: "hang"}, results.ErrorTimeout, 0, "request timeout", nil},
		{"keep-alives only", &fakeServer{fault: "keepalive"}, results.ErrorTimeout, 200, "request timeout", nil},
		{"no output", &fakeServer{tokens: -1}, results.ErrorNoOutput, 200, "no output", nil},
		// A local timeout: the request's deadline passes while the client is still connecting,
		// so the server never received it; the client's failure, not a server timeout.
		{"connecting never ends", &fakeServer{}, results.ErrorClient, 0, "never reached the server", func(c *Config) {
			c.Dial = func(ctx context.Context, _, _ string) (net.Conn, error) { <-ctx.Done(); return nil, ctx.Err() }
		}},
	}
	clients := clientsHere(t)
	for _, tt := range tests {
		for _, client := range clients {
			t.Run(tt.name+"/"+client, func(t *testing.T) {
				t.Parallel()
				srv := tt.srv.clone()
				srv.ttft, srv.itl = 10*time.Millisecond, 50*time.Millisecond
				run := runFake
				if client != ClientNetHTTP {
					run = func(t *testing.T, srv *fakeServer, edit func(*Config)) (Summary, error, []results.Request) {
						return runTCP(t, srv, edit)
					}
				}
				sum, err, rows := run(t, srv, func(c *Config) {
					if client != ClientNetHTTP {
						c.Client = client
					}
					c.RunTime, c.StallTimeout, c.Timeout, c.Grace = 2*time.Second, 200*time.Millisecond, 700*time.Millisecond, 5*time.Second
					if tt.edit != nil {
						tt.edit(c)
					}
				})
				if !errors.Is(err, ErrAllFailed) {
					t.Fatalf("Run error %v, want ErrAllFailed", err)
				}
				if len(rows) < 4 {
					t.Fatalf("%d records: the run did not go on after failures", len(rows))
				}
				for _, r := range rows {
					if r.ErrorKind != tt.kind || r.HTTPStatus != tt.status || !strings.Contains(r.Error, tt.msg) {
						t.Fatalf("record: kind %q status %d error %q; want %q, %d, containing %q", r.ErrorKind, r.HTTPStatus, r.Error, tt.kind, tt.status, tt.msg)
					}
				}
				if sum.Failures[tt.kind] != len(rows) || len(sum.FirstErrors) == 0 || !strings.Contains(err.Error(), tt.kind) {
					t.Fatalf("summary failures %v, first errors %v, error %v", sum.Failures, sum.FirstErrors, err)
				}
				if onClient := tt.kind == results.ErrorClient; sum.MostFailedOnClient() != onClient ||
					onClient != strings.Contains(strings.Join(sum.Limits, ";"), LimitSendTime) {
					t.Fatalf("most failed on the client: %v, limits %q; want %v", sum.MostFailedOnClient(), sum.Limits, onClient)
				}
			})
		}
	}
}

// checkVLLMTimes checks a request's vLLM-defined TTFT and ITL against the fake server's
// cadence: every content chunk, then an empty finish chunk at once; on chat a role delta first.
func checkVLLMTimes(t *testing.T, api loadspec.API, r results.Request) {
	t.Helper()
	ms := int64(time.Millisecond)
	wantTTFT, want := 50*ms, []int64{10 * ms, 10 * ms, 10 * ms, 10 * ms, 10 * ms, 10 * ms, 10 * ms, 0}
	if api == loadspec.APIChat {
		wantTTFT, want = 0, append([]int64{50 * ms}, want...)
	}
	if r.VLLMTTFTNs != wantTTFT || fmt.Sprint(r.VLLMITLNs) != fmt.Sprint(want) {
		t.Errorf("request %d: vLLM TTFT %d ITL %v; want %d and %v", r.Seq, r.VLLMTTFTNs, r.VLLMITLNs, wantTTFT, want)
	}
}
