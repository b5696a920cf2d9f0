package loadgen

import (
	"context"
	"net"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// dialLog wraps a dialer and notes when each dial began.
type dialLog struct {
	dial  dialFunc
	mu    sync.Mutex
	times []time.Time
}

func (d *dialLog) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.times = append(d.times, time.Now())
	d.mu.Unlock()
	return d.dial(ctx, network, addr)
}

// TestPreconnectPacing: in fake time, a closed loop opens one connection per slot before its
// start, maxDialing at once and then at the connect rate; every request then finds one, and
// the clock starts after the last.
func TestPreconnectPacing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		mem, stop := serveInMemory(&fakeServer{ttft: 10 * time.Millisecond, tokens: 2})
		defer stop()
		log := &dialLog{dial: mem}
		cfg := baseConfig(log.Dial)
		cfg.Concurrency, cfg.ConnectRate, cfg.RunTime = maxDialing+100, 1000, 50*time.Millisecond
		t0 := time.Now()
		sink := &MemorySink{}
		sum, err := Run(t.Context(), cfg, sink)
		if err != nil {
			t.Fatal(err)
		}
		if len(log.times) != cfg.Concurrency {
			t.Fatalf("%d dials, want one per slot (%d)", len(log.times), cfg.Concurrency)
		}
		for i, at := range log.times {
			want := time.Duration(0)
			if i >= maxDialing {
				want = time.Duration(i-maxDialing) * time.Millisecond
			}
			if got := at.Sub(t0); got != want {
				t.Fatalf("dial %d at %v, want %v", i, got, want)
			}
		}
		rows := sink.Rows()
		start := time.Unix(0, rows[0].StartUnixNs-rows[0].SentNs)
		if last := log.times[len(log.times)-1]; start.Before(last) {
			t.Errorf("the run started at %v, before the last connection was opened (%v)", start.Sub(t0), last.Sub(t0))
		}
		if sum.Preconnected != cfg.Concurrency || sum.Connections != int64(cfg.Concurrency) || sum.PreconnectTime != 99*time.Millisecond {
			t.Errorf("preconnected %d in %v, %d dialled; want %d in 99ms, and no other dial",
				sum.Preconnected, sum.PreconnectTime, sum.Connections, cfg.Concurrency)
		}
		for _, r := range rows {
			if r.OK() && (r.ConnectNs <= 0 || r.ConnectNs > r.TTFTNs) {
				t.Fatalf("connect %v, TTFT %v", time.Duration(r.ConnectNs), time.Duration(r.TTFTNs))
			}
		}
	})
}

// TestStartRamp: a burst start's first requests are spread evenly over the ramp.
func TestStartRamp(t *testing.T) {
	t.Parallel()
	srv := &fakeServer{ttft: time.Second, tokens: 1}
	_, err, rows := runFake(t, srv, func(c *Config) {
		c.Concurrency, c.StartRamp, c.RunTime = 4, 400*time.Millisecond, 500*time.Millisecond
	})
	if err != nil {
		t.Fatal(err)
	}
	first := map[int32]int64{}
	for _, r := range rows {
		if v, ok := first[r.User]; !ok || r.SentNs < v {
			first[r.User] = r.SentNs
		}
	}
	for u := range int32(4) {
		if want := int64(u) * int64(100*time.Millisecond); first[u] != want {
			t.Errorf("slot %d first sent at %v, want %v", u, time.Duration(first[u]), time.Duration(want))
		}
	}
}

// acceptCounter counts the connections a listener accepted, and closes the first close of
// them at once (a server that drops idle connections).
type acceptCounter struct {
	net.Listener
	n, close atomic.Int64
}

func (l *acceptCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil && l.n.Add(1) <= l.close.Load() {
		_ = c.Close()
	}
	return c, err
}

// TestPreconnectTCP: over real TCP, with either client, the connections opened ahead carry
// the first requests (none dialled after the start); connections the server closed while they
// waited are noticed, and the requests dial new ones and succeed; with NoPreconnect every
// slot dials on its first request and its connect time shows it.
func TestPreconnectTCP(t *testing.T) {
	t.Parallel()
	for _, client := range clientsHere(t) {
		for _, tc := range []struct {
			name         string
			rate         float64
			serverCloses int64
		}{{"opened", 0, 0}, {"closed-by-server", 0, 4}, {"none", NoPreconnect, 0}} {
			t.Run(clientTag(client)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				acc := &acceptCounter{Listener: l}
				acc.close.Store(tc.serverCloses)
				web := httptest.NewUnstartedServer(&fakeServer{tokens: 2})
				web.Listener = acc
				web.Start()
				defer web.Close()
				var dialer net.Dialer
				log := &dialLog{dial: dialer.DialContext}
				cfg := tcpConfig(web.URL)
				cfg.Concurrency, cfg.Client, cfg.ConnectRate, cfg.Dial = 4, client, tc.rate, log.Dial
				cfg.StartAt = time.Now().Add(300 * time.Millisecond) // the server closes what it will meanwhile
				sink := &MemorySink{}
				sum, err := Run(t.Context(), cfg, sink)
				if err != nil {
					t.Fatal(err)
				}
				rows := sink.Rows()
				start := time.Unix(0, rows[0].StartUnixNs-rows[0].SentNs)
				var after int
				for _, at := range log.times {
					if !at.Before(start) {
						after++
					}
				}
				// Connections used = the ones opened ahead that were still open + dials after
				// the start. net/http may dial a spare one when a request starts before the last
				// one's connection is back in its pool; the epoll client never does.
				wantPre, usedPre := 4, 4
				switch {
				case tc.rate == NoPreconnect:
					wantPre, usedPre = 0, 0
				case tc.serverCloses > 0:
					usedPre = 0
				}
				if sum.Preconnected != wantPre || sum.Connections != int64(usedPre+after) || sum.Connections < 4 || sum.Failed > 0 ||
					client != ClientNetHTTP && sum.Connections != 4 {
					t.Errorf("%d preconnected, %d dials after the start, %d connections used, %d failed; want %d preconnected, %d of them used",
						sum.Preconnected, after, sum.Connections, sum.Failed, wantPre, usedPre)
				}
				for _, r := range rows {
					if r.OK() && r.ConnectNs <= 0 {
						t.Fatalf("request %d has no connect time", r.Seq)
					}
				}
				if sum.Connect.N == 0 {
					t.Error("the summary has no connect time")
				}
			})
		}
	}
}
