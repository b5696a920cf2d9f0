package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/llmscale/llmscale/internal/tokens"
)

// fastConfig runs the model 200× faster than real time, so an HTTP test takes milliseconds.
func fastConfig() Config { return Config{Speedup: 200, MaxNumSeqs: 256} }

// realTimeConfig runs the model in real time: a token every ~7 ms, slow enough that every
// token gets its own chunk (at high speedups a handler that falls behind sends the tokens that
// are ready together, as vLLM does).
func realTimeConfig() Config { return Config{MaxNumSeqs: 256} }

func TestHTTPCompletionsStream(t *testing.T) {
	t.Parallel()
	ts := startServer(t, realTimeConfig())
	prompt := "The quick brown fox jumps over the lazy dog."
	resp := ts.post(t, "/v1/completions", map[string]any{"model": DefaultModel, "prompt": prompt, "max_tokens": 20,
		"stream": true, "ignore_eos": true, "stream_options": map[string]any{"include_usage": true}})
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("Content-Type %q", ct)
	}
	s := collect(t, resp)
	// Real time on a loaded machine: a late handler may send ready tokens together, so only
	// the synctest tests count chunks exactly.
	if s.chunks < 1 || s.chunks > 20 || s.finish != "length" {
		t.Errorf("%d content chunks ending %q, want 1-20 ending \"length\"", s.chunks, s.finish)
	}
	if n := tokens.Count(s.text); n != 20 {
		t.Errorf("client recounts %d tokens in %q, want 20", n, s.text)
	}
	want := usageJSON{PromptTokens: tokens.Count(prompt), CompletionTokens: 20, TotalTokens: tokens.Count(prompt) + 20}
	if s.usage == nil || *s.usage != want {
		t.Errorf("usage %+v, want %+v", s.usage, want)
	}
}

func TestHTTPChatStream(t *testing.T) {
	t.Parallel()
	ts := startServer(t, realTimeConfig())
	resp := ts.post(t, "/v1/chat/completions", map[string]any{"model": DefaultModel, "max_tokens": 7, "stream": true,
		"ignore_eos": true, "stream_options": map[string]any{"include_usage": true},
		"messages": []map[string]any{{"role": "system", "content": "Be brief."},
			{"role": "user", "content": []map[string]string{{"type": "text", "text": "Hello there"}}}}})
	s := collect(t, resp)
	if !s.roleSeen || s.chunks < 1 || s.chunks > 7 || s.finish != "length" || tokens.Count(s.text) != 7 {
		t.Errorf("role %v, %d content chunks, finish %q, text %q; want a role delta then 7 tokens", s.roleSeen, s.chunks, s.finish, s.text)
	}
	// Llama 3's template: BOS + 5 per message + 4 for the assistant header.
	wantPrompt := 1 + (5 + tokens.Count("Be brief.")) + (5 + tokens.Count("Hello there")) + 4
	if s.usage == nil || s.usage.PromptTokens != wantPrompt || s.usage.CompletionTokens != 7 {
		t.Errorf("usage %+v, want %d prompt and 7 completion tokens", s.usage, wantPrompt)
	}
}

func TestHTTPNonStreaming(t *testing.T) {
	t.Parallel()
	ts := startServer(t, fastConfig())
	for _, tt := range []struct {
		path string
		body map[string]any
	}{
		{"/v1/completions", map[string]any{"prompt": "Say something", "max_tokens": 12, "ignore_eos": true}},
		{"/v1/chat/completions", map[string]any{"messages": []map[string]string{{"role": "user", "content": "Hi"}},
			"max_tokens": 12, "ignore_eos": true}},
	} {
		resp := ts.post(t, tt.path, tt.body)
		var got struct {
			Object  string `json:"object"`
			Choices []struct {
				Text    string `json:"text"`
				Message struct {
					Role, Content string
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
			Usage usageJSON `json:"usage"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		resp.Body.Close()
		text := got.Choices[0].Text + got.Choices[0].Message.Content
		if tokens.Count(text) != 12 || got.Usage.CompletionTokens != 12 || got.Choices[0].FinishReason != "length" {
			t.Errorf("%s: %+v", tt.path, got)
		}
		if tt.path == "/v1/chat/completions" && (got.Object != "chat.completion" || got.Choices[0].Message.Role != "assistant") {
			t.Errorf("chat response object %q role %q", got.Object, got.Choices[0].Message.Role)
		}
	}
}

func TestHTTPTokenIDPrompts(t *testing.T) {
	t.Parallel()
	ts := startServer(t, fastConfig())
	ids := make([]int, 50)
	for _, prompt := range []any{ids, [][]int{ids}} {
		s := collect(t, ts.post(t, "/v1/completions", map[string]any{"prompt": prompt, "max_tokens": 3, "stream": true,
			"ignore_eos": true, "stream_options": map[string]any{"include_usage": true}}))
		if s.usage == nil || s.usage.PromptTokens != 50 {
			t.Errorf("prompt %T: usage %+v, want 50 prompt tokens", prompt, s.usage)
		}
	}
}

func TestHTTPErrors(t *testing.T) {
	t.Parallel()
	ts := startServer(t, fastConfig())
	long := make([]int, 9000)
	tests := []struct {
		name   string
		path   string
		body   any
		status int
		substr string
	}{
		{"prompt longer than the context", "/v1/completions", map[string]any{"prompt": long}, 400, "maximum context length is 8192 tokens"},
		{"max_tokens too large", "/v1/completions", map[string]any{"prompt": "hi", "max_tokens": 8192}, 400, "'max_tokens' or 'max_completion_tokens' is too large"},
		{"unknown model", "/v1/completions", map[string]any{"model": "gpt-4", "prompt": "hi"}, 404, "The model `gpt-4` does not exist."},
		{"bad JSON", "/v1/completions", "{", 400, "invalid JSON"},
		{"n > 1", "/v1/completions", map[string]any{"prompt": "hi", "n": 2}, 400, "n=1"},
		{"stream options without stream", "/v1/completions", map[string]any{"prompt": "hi", "stream_options": map[string]any{"include_usage": true}}, 400, "stream=True"},
		{"empty prompt", "/v1/completions", map[string]any{"prompt": ""}, 400, "cannot be empty"},
		{"no messages", "/v1/chat/completions", map[string]any{"messages": []any{}}, 400, "messages"},
		{"zero max_tokens", "/v1/chat/completions", map[string]any{"messages": []map[string]string{{"role": "user", "content": "x"}}, "max_tokens": 0}, 400, "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var resp *http.Response
			if s, ok := tt.body.(string); ok {
				r, err := ts.client.Post(ts.URL+tt.path, "application/json", strings.NewReader(s))
				if err != nil {
					t.Fatal(err)
				}
				resp = r
			} else {
				resp = ts.post(t, tt.path, tt.body)
			}
			defer resp.Body.Close()
			var e struct {
				Error *struct {
					Message string  `json:"message"`
					Type    string  `json:"type"`
					Param   *string `json:"param"`
					Code    int     `json:"code"`
				} `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error == nil {
				t.Fatalf("status %d, body not vLLM's error object: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tt.status || e.Error.Code != tt.status || !strings.Contains(e.Error.Message, tt.substr) {
				t.Errorf("status %d, error %+v; want %d and a message with %q", resp.StatusCode, e.Error, tt.status, tt.substr)
			}
			if e.Error.Type != errorType(tt.status) {
				t.Errorf("type %q, want %q", e.Error.Type, errorType(tt.status))
			}
		})
	}
}

func TestHTTPEndpoints(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Model: "my/model", ModelProfile: "llama-3-8b", MaxModelLen: 4096})
	if code, _ := ts.get(t, "/health"); code != 200 {
		t.Errorf("/health %d", code)
	}
	if code, b := ts.get(t, "/version"); code != 200 || string(b) != `{"version":"llmscale-sim test"}` {
		t.Errorf("/version %d %s", code, b)
	}
	code, b := ts.get(t, "/v1/models")
	var models struct {
		Object string `json:"object"`
		Data   []struct {
			ID          string `json:"id"`
			MaxModelLen int    `json:"max_model_len"`
			OwnedBy     string `json:"owned_by"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &models); err != nil || code != 200 || len(models.Data) != 1 ||
		models.Data[0].ID != "my/model" || models.Data[0].MaxModelLen != 4096 {
		t.Errorf("/v1/models %d %s (%v)", code, b, err)
	}
	resp := ts.post(t, "/reset_prefix_cache", nil)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/reset_prefix_cache %d", resp.StatusCode)
	}
	if code, _ := ts.get(t, "/v1/completions"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/completions %d, want 405", code)
	}
}

func TestHTTPRequestIDHeader(t *testing.T) {
	t.Parallel()
	ts := startServer(t, fastConfig())
	resp := ts.postHeader(t, "/v1/completions", map[string]any{"prompt": "x", "max_tokens": 2, "stream": true},
		http.Header{"X-Request-Id": {"abc-123"}})
	if got := resp.Header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("X-Request-Id echoed %q", got)
	}
	evs := readSSE(t, resp.Body)
	resp.Body.Close()
	if c := parseChunk(t, evs[0].data); c.ID != "cmpl-abc-123" {
		t.Errorf("id %q, want cmpl-abc-123", c.ID)
	}
}

func TestHTTPWithoutIgnoreEOSStopsEarly(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.MeanOutputTokens = 8
	ts := startServer(t, cfg)
	stops := 0
	for range 20 {
		s := collect(t, ts.post(t, "/v1/completions", map[string]any{"prompt": "x", "max_tokens": 200, "stream": true,
			"stream_options": map[string]any{"include_usage": true}}))
		if s.usage.CompletionTokens > 200 || s.usage.CompletionTokens < 1 {
			t.Fatalf("%d tokens for max_tokens 200", s.usage.CompletionTokens)
		}
		if s.finish == "stop" {
			stops++
		}
	}
	if stops < 15 {
		t.Errorf("%d of 20 answers stopped at EOS with a mean length of 8 and max_tokens 200", stops)
	}
}

func TestHTTPManyConcurrentStreams(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.DP = 2
	ts := startServer(t, cfg)
	var wg sync.WaitGroup
	errs := make(chan string, 300)
	for i := range 300 {
		wg.Go(func() {
			path, body := "/v1/completions", map[string]any{"prompt": "hello world", "max_tokens": 30 + i%7,
				"stream": true, "ignore_eos": true, "stream_options": map[string]any{"include_usage": true}}
			if i%2 == 1 {
				path = "/v1/chat/completions"
				body["messages"] = []map[string]string{{"role": "user", "content": "hello"}}
				delete(body, "prompt")
			}
			s := collect(t, ts.post(t, path, body))
			if tokens.Count(s.text) != 30+i%7 || s.usage.CompletionTokens != 30+i%7 {
				errs <- s.text
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("wrong response text %q", e)
	}
}

func TestHTTPNotRunning(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorderWriter()
	srv.Handler().ServeHTTP(rec, mustRequest(t, "GET", "/health"))
	if rec.code != http.StatusServiceUnavailable {
		t.Errorf("/health before Run: %d, want 503", rec.code)
	}
}

func mustRequest(t *testing.T, method, path string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, "http://sim"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// recorderWriter is a minimal ResponseWriter (httptest.ResponseRecorder without the import).
type recorderWriter struct {
	code int
	h    http.Header
	body strings.Builder
}

func newRecorderWriter() *recorderWriter              { return &recorderWriter{code: 200, h: http.Header{}} }
func (r *recorderWriter) Header() http.Header         { return r.h }
func (r *recorderWriter) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorderWriter) WriteHeader(code int)        { r.code = code }

var _ io.Writer = (*recorderWriter)(nil)

func TestHTTPLegacyErrorFormat(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.ErrorFormat = ErrorFormatLegacy
	ts := startServer(t, cfg)
	resp := ts.post(t, "/v1/completions", map[string]any{"prompt": "hi", "max_tokens": 9000})
	defer resp.Body.Close()
	var e struct {
		Object  string  `json:"object"`
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    int     `json:"code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || e.Object != "error" || e.Type != "BadRequestError" || e.Code != 400 || e.Param != nil ||
		!strings.Contains(e.Message, "maximum context length") {
		t.Errorf("status %d, legacy error %+v", resp.StatusCode, e)
	}
}
