package cli

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmscale/llmscale/internal/loadgen"
)

type fixedProgress struct{ s loadgen.Snapshot }

func (f fixedProgress) Progress() loadgen.Snapshot { return f.s }

// TestProgressLines: without a terminal, a campaign prints a line about its running
// experiment every interval, with its rates, TTFT and errors, and nothing once it is done.
func TestProgressLines(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var b bytes.Buffer
		src := fixedProgress{loadgen.Snapshot{Phase: "measure", Left: 20 * time.Second, Sent: 50, Done: 40, Failed: 2,
			ReqRate: 4.5, OutTokRate: 576, TTFTP50: 35 * time.Millisecond}}
		stop := startProgressLines(Env{Stderr: &b}, src, "  exp1:", 10*time.Second)
		time.Sleep(35 * time.Second)
		stop()
		lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("%d lines in 35 s at one per 10 s:\n%s", len(lines), b.String())
		}
		want := "  exp1: measure   20.0s left | sent 50, in flight 0, done 40, failed 2 | 4.5 req/s, 576 tok/s | TTFT p50 35 ms"
		if lines[0] != want {
			t.Errorf("line %q\nwant %q", lines[0], want)
		}
		b.Reset()
		stop = startProgressLines(Env{Stderr: &b}, fixedProgress{loadgen.Snapshot{Phase: "done"}}, "x", time.Second)
		time.Sleep(3 * time.Second)
		stop()
		if b.Len() != 0 {
			t.Errorf("lines after the experiment ended: %q", b.String())
		}
	})
}
