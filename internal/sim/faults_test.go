package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

var cadence10ms = &Cadence{TTFT: 10 * time.Millisecond, ITL: 10 * time.Millisecond}

func TestFaultErrorRate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := startBubble(t, Config{Faults: Faults{ErrorRate: 1, ErrorStatus: 503}})
		resp, err := b.do(t, "/v1/completions", streamBody(5), "")
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Error struct{ Type string } }
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 503 || e.Error.Type != "ServiceUnavailableError" {
			t.Errorf("status %d type %q, want 503 ServiceUnavailableError", resp.StatusCode, e.Error.Type)
		}
		if err := b.stop(); err != nil {
			t.Fatal(err)
		}
	})
	// Half the requests fail, the same ones on every run.
	failures := func() string {
		var failed []int
		synctest.Test(t, func(t *testing.T) {
			b := startBubble(t, Config{Cadence: cadence10ms, Seed: 5, Faults: Faults{ErrorRate: 0.5}})
			for i := range 40 {
				resp, err := b.do(t, "/v1/completions", streamBody(1), fmt.Sprint(i))
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 500 {
					failed = append(failed, i)
				}
			}
			if err := b.stop(); err != nil {
				t.Fatal(err)
			}
		})
		if len(failed) < 10 || len(failed) > 30 {
			t.Errorf("%d of 40 requests failed at an error rate of 0.5", len(failed))
		}
		return fmt.Sprint(failed)
	}
	if a, b := failures(), failures(); a != b {
		t.Errorf("different requests failed on two runs: %s and %s", a, b)
	}
}

func TestFaultStall(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := startBubble(t, Config{Cadence: cadence10ms, Faults: Faults{StallRate: 1, StallFor: 3 * time.Second}})
		resp, err := b.do(t, "/v1/completions", streamBody(10), "")
		evs := timedStream(t, resp, err)
		if err := b.stop(); err != nil {
			t.Fatal(err)
		}
		var longest time.Duration
		tokens := 0
		for i := 1; i < len(evs); i++ {
			longest = max(longest, evs[i].at.Sub(evs[i-1].at))
		}
		for _, ev := range evs[:len(evs)-2] {
			tokens += strings.Count(ev.data, `"text":"`)
		}
		if longest < 3*time.Second || tokens != 10 {
			t.Errorf("longest gap %v with %d tokens, want a stall of 3s and all 10 tokens", longest, tokens)
		}
	})
}

func TestFaultDroppedConnection(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := startBubble(t, Config{Faults: Faults{DropRate: 1}})
		resp, err := b.do(t, "/v1/completions", streamBody(20), "")
		if err != nil {
			t.Fatal(err)
		}
		body, err := readAllErr(resp.Body)
		resp.Body.Close()
		if err == nil || strings.Contains(string(body), "[DONE]") {
			t.Errorf("stream ended cleanly (%v) with %d bytes; want the connection cut", err, len(body))
		}
		if n := strings.Count(string(body), "data: "); n < 5 || n > 15 {
			t.Errorf("%d chunks before the cut, want about half of 20", n)
		}
		time.Sleep(time.Second)
		fams := scrapeHandler(t, b.srv)
		if err := b.stop(); err != nil {
			t.Fatal(err)
		}
		if got := sum(t, fams, "vllm:request_success_total", map[string]string{"finished_reason": "abort"}); got != 1 {
			t.Errorf("%g aborts counted, want 1", got)
		}
	})
}

func TestFaultMalformedChunks(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := startBubble(t, Config{Cadence: cadence10ms, Faults: Faults{MalformedRate: 1}})
		resp, err := b.do(t, "/v1/chat/completions", map[string]any{"stream": true, "max_tokens": 5, "ignore_eos": true,
			"messages": []map[string]string{{"role": "user", "content": "hi"}}}, "")
		evs := timedStream(t, resp, err)
		if err := b.stop(); err != nil {
			t.Fatal(err)
		}
		bad := 0
		for _, ev := range evs[1 : len(evs)-1] { // after the role delta, before [DONE]
			var v any
			if json.Unmarshal([]byte(ev.data), &v) != nil {
				bad++
			}
		}
		if bad != 5 {
			t.Errorf("%d malformed chunks, want all 5 content chunks", bad)
		}
	})
}

func TestFaultCrashAfterRequests(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := startBubble(t, Config{Cadence: cadence10ms, Faults: Faults{CrashAfterRequests: 2}})
		for i := range 2 {
			resp, err := b.do(t, "/v1/completions", streamBody(3), "")
			timedStream(t, resp, err)
			_ = i
		}
		resp, err := b.do(t, "/v1/completions", streamBody(3), "")
		if err == nil {
			_, err = readAllErr(resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			t.Error("the third request succeeded; want the server gone")
		}
		<-b.srv.Crashed()
		if err := b.stop(); !errors.Is(err, ErrCrashed) {
			t.Errorf("Serve returned %v, want ErrCrashed", err)
		}
	})
}

func TestFaultCrashAfterTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := startBubble(t, Config{Cadence: &Cadence{ITL: 100 * time.Millisecond}, Faults: Faults{CrashAfter: 2 * time.Second}})
		start := time.Now()
		var wg sync.WaitGroup
		wg.Go(func() {
			resp, err := b.do(t, "/v1/completions", streamBody(100), "")
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := readAllErr(resp.Body); err == nil {
				t.Error("a stream outlived the crash")
			}
			resp.Body.Close()
		})
		err := <-b.done
		b.done <- err
		if at := time.Since(start); at != 2*time.Second {
			t.Errorf("crashed after %v, want 2s", at)
		}
		wg.Wait()
		if err := b.stop(); !errors.Is(err, ErrCrashed) {
			t.Errorf("Serve returned %v, want ErrCrashed", err)
		}
	})
}

func TestFaultSlowStart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := startBubble(t, Config{Faults: Faults{SlowStart: 5 * time.Second}})
		synctest.Wait()
		if code := b.health(t); code != http.StatusServiceUnavailable {
			t.Errorf("/health at start: %d, want 503", code)
		}
		resp, err := b.do(t, "/v1/completions", streamBody(2), "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("completion during slow start: %d, want 503", resp.StatusCode)
		}
		time.Sleep(5*time.Second - time.Millisecond)
		if code := b.health(t); code != http.StatusServiceUnavailable {
			t.Errorf("/health just before 5s: %d, want 503", code)
		}
		time.Sleep(time.Millisecond)
		if code := b.health(t); code != http.StatusOK {
			t.Errorf("/health at 5s: %d, want 200", code)
		}
		if err := b.stop(); err != nil {
			t.Fatal(err)
		}
	})
}
