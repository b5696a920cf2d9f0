package loadgen

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
)

// recordedUsage is the usage object of a recorded stream's last chunk that has one.
func recordedUsage(t *testing.T, data []byte) (prompt, completion int) {
	t.Helper()
	for _, line := range strings.Split(string(data), "\n") {
		payload, ok := strings.CutPrefix(line, "data: ")
		if !ok || payload == "[DONE]" {
			continue
		}
		var c struct {
			Usage *struct {
				Prompt     int `json:"prompt_tokens"`
				Completion int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(payload), &c); err != nil {
			t.Fatalf("a recorded chunk is not JSON: %v: %s", err, payload)
		}
		if c.Usage != nil {
			prompt, completion = c.Usage.Prompt, c.Usage.Completion
		}
	}
	return prompt, completion
}

// TestRecordedLlamaCppStreams replays streams recorded from a real llama-server
// (testdata/sse/llamacpp_real_*.txt, README there) through the real client: every request
// succeeds with the token counts of the server's usage, one output token per content chunk,
// and a first token before the last.
func TestRecordedLlamaCppStreams(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../testdata/sse/llamacpp_real_*.txt")
	if len(files) == 0 {
		t.Fatal("no recorded llama.cpp streams in testdata/sse")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			prompt, completion := recordedUsage(t, data)
			if completion == 0 {
				t.Fatal("the recording has no usage")
			}
			srv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.Write(data)
			})
			api := loadspec.APICompletions
			if strings.Contains(f, "chat") {
				api = loadspec.APIChat
			}
			_, err, rows := runTCP(t, srv, func(c *Config) {
				c.API, c.Concurrency, c.RunTime, c.MaxTokens = api, 1, 200*time.Millisecond, completion
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) == 0 {
				t.Fatal("no request ran")
			}
			for _, r := range rows {
				if !r.OK() || r.PromptTokens != int32(prompt) || r.OutputTokens != int32(completion) ||
					len(r.ITLNs) != completion-1 || r.TTFTNs <= 0 || r.TTFTNs > r.E2ENs {
					t.Fatalf("request %d: ok %v (%s), tokens %d/%d, %d gaps, ttft %d e2e %d; want %d/%d and %d gaps",
						r.Seq, r.OK(), r.Error, r.PromptTokens, r.OutputTokens, len(r.ITLNs), r.TTFTNs, r.E2ENs,
						prompt, completion, completion-1)
				}
			}
		})
	}
}
