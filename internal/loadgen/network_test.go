package loadgen

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

func TestMain(m *testing.M) {
	if os.Getenv("LLMSCALE_CADENCE_CHILD") != "" { // the benchmarks' server, in its own process
		serveCadenceChild()
		return
	}
	if os.Getenv(emfileChildEnv) != "" { // a load generator starved of file descriptors
		runEMFILEChild()
		return
	}
	goleak.VerifyTestMain(m)
}

// tcpConfig is a short run over real TCP on loopback.
func tcpConfig(target string) Config {
	return Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeConcurrency, Concurrency: 2}, Targets: []string{target}, Model: "m", RunTime: 300 * time.Millisecond, MaxTokens: 4, Timeout: 5 * time.Second, Grace: 2 * time.Second}, Prompts: testPrompts(2)}
}

// TestNetworkFailures: failures that need a real network stack.
func TestNetworkFailures(t *testing.T) {
	t.Parallel()
	closed := closedPort(t)
	tlsSrv := httptest.NewUnstartedServer(&fakeServer{tokens: 2})
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failures are the test
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(&fakeServer{tokens: 2})
	t.Cleanup(plain.Close)
	tests := []struct {
		name, target, kind, msg string
		edit                    func(*Config)
	}{
		{"connection refused", "http://" + closed, results.ErrorConnect, "refused", nil},
		{"unknown certificate authority", tlsSrv.URL, results.ErrorTLS, "certificate", nil},
		{"https to a plain server", strings.Replace(plain.URL, "http:", "https:", 1), results.ErrorTLS, "", nil},
		{"dns", "http://llmscale.invalid:8000", results.ErrorConnect, "no such host", func(c *Config) {
			c.Dial = func(context.Context, string, string) (net.Conn, error) {
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "llmscale.invalid", IsNotFound: true}}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tcpConfig(tt.target)
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			sink := &MemorySink{}
			sum, err := Run(t.Context(), cfg, sink)
			if !errors.Is(err, ErrAllFailed) {
				t.Fatalf("error %v, want ErrAllFailed", err)
			}
			for _, r := range sink.Rows() {
				if r.ErrorKind != tt.kind || !strings.Contains(r.Error, tt.msg) || r.HTTPStatus != 0 {
					t.Fatalf("record %s (%s) status %d, want %s containing %q", r.ErrorKind, r.Error, r.HTTPStatus, tt.kind, tt.msg)
				}
			}
			// A dead server must not make users spin: at most one request per user per failure pause.
			if max := 4 * int(cfg.RunTime/failurePause); sum.Sent > max || sum.Sent == 0 {
				t.Errorf("%d requests in %v, want 1..%d", sum.Sent, cfg.RunTime, max)
			}
		})
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestAPIKey: the key is sent as a bearer token, by either client, in the request net/http
// would send.
func TestAPIKey(t *testing.T) {
	t.Parallel()
	for _, client := range clientsHere(t) {
		var got *http.Request
		fake := &fakeServer{tokens: 1}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.Clone(context.Background())
			fake.ServeHTTP(w, r)
		}))
		cfg := tcpConfig(srv.URL + "/v1")
		cfg.Concurrency, cfg.APIKey, cfg.Client = 1, "sk-test", client
		cfg.RunTime, cfg.MaxRequests = NoTimeLimit, 1 // one request, however slow the host
		_, err := Run(t.Context(), cfg, &MemorySink{})
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got.Header.Get("Authorization") != "Bearer sk-test" || got.URL.Path != "/v1/completions" || got.Method != http.MethodPost ||
			got.Header.Get("Content-Type") != "application/json" || got.Host != strings.TrimPrefix(srv.URL, "http://") {
			t.Fatalf("%s: %s %s, Host %q, header %v", client, got.Method, got.URL, got.Host, got.Header)
		}
		if b := fake.bodies[0]; b.Model != "m" || !b.Stream || !b.StreamOptions.IncludeUsage {
			t.Fatalf("%s: body %+v", client, b)
		}
	}
}
