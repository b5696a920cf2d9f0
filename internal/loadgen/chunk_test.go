package loadgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/llmscale/llmscale/internal/sse"
)

// view is a chunk with decoded strings, for comparisons.
type view struct {
	ID, Text, Content, ReasoningContent, Reasoning, Finish string
	Prompt, Completion                                     int64
	HasError                                               bool
	Error                                                  string
}

func viewOf(c *chunk) view {
	d := func(j jsonString) string { return string(j.decode(nil)) }
	return view{ID: d(c.id), Text: d(c.text), Content: d(c.content), ReasoningContent: d(c.reasoningContent),
		Reasoning: d(c.reasoning), Finish: d(c.finish), Prompt: c.promptTokens, Completion: c.completionTokens,
		HasError: c.hasError, Error: d(c.errMsg)}
}

func TestParseChunk(t *testing.T) {
	t.Parallel()
	none := view{Prompt: -1, Completion: -1}
	with := func(f func(*view)) view { v := none; f(&v); return v }
	tests := []struct {
		name, in string
		want     view
		output   bool
	}{
		{"completions", `{"id":"cmpl-1","choices":[{"index":0,"text":" Hi","finish_reason":null}],"usage":null}`,
			with(func(v *view) { v.ID, v.Text = "cmpl-1", " Hi" }), true},
		{"chat role only", `{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
			none, false},
		{"chat role content null", `{"choices":[{"delta":{"role":"assistant","content":null}}]}`, none, false},
		{"chat content", `{"choices":[{"delta":{"content":"caf\u00e9 \"x\"\n"}}]}`,
			with(func(v *view) { v.Content = "café \"x\"\n" }), true},
		{"reasoning", `{"choices":[{"delta":{"reasoning_content":"think","content":null}}]}`,
			with(func(v *view) { v.ReasoningContent = "think" }), true},
		{"reasoning new name", `{"choices":[{"delta":{"reasoning":"hm"}}]}`,
			with(func(v *view) { v.Reasoning = "hm" }), true},
		{"finish", `{"choices":[{"text":"","finish_reason":"length"}]}`,
			with(func(v *view) { v.Finish = "length" }), false},
		{"usage chunk", `{"choices":[],"usage":{"prompt_tokens":12,"total_tokens":20,"completion_tokens":8}}`,
			with(func(v *view) { v.Prompt, v.Completion = 12, 8 }), false},
		{"usage float is absent", `{"usage":{"prompt_tokens":1.5,"completion_tokens":"8"}}`, none, false},
		{"surrogate pair", `{"choices":[{"text":"\ud83d\ude00"}]}`, with(func(v *view) { v.Text = "😀" }), true},
		{"lone surrogate", `{"choices":[{"text":"\ud83d"}]}`, with(func(v *view) { v.Text = "\uFFFD" }), true},
		{"vllm error", `{"error":{"object":"error","message":"boom","type":"InternalServerError","code":500}}`,
			with(func(v *view) { v.HasError, v.Error = true, "boom" }), false},
		{"error string", `{"error":"bad"}`, with(func(v *view) { v.HasError, v.Error = true, "bad" }), false},
		{"error without message", `{"error":{"code":5}}`, with(func(v *view) { v.HasError, v.Error = true, `{"code":5}` }), false},
		{"error null", `{"error":null,"choices":[{"text":"a"}]}`, with(func(v *view) { v.Text = "a" }), true},
		{"escaped key", `{"choices":[{"t\u0065xt":"a"}]}`, with(func(v *view) { v.Text = "a" }), true},
		{"second choice ignored", `{"choices":[{"text":"a"},{"text":"b"}]}`, with(func(v *view) { v.Text = "a" }), true},
		{"duplicate key last wins", `{"choices":[{"text":"a"}],"choices":[]}`, none, false},
		{"odd types ignored", `{"id":5,"choices":{"text":"a"},"usage":[1]}`, none, false},
		{"whitespace", " {\n\t\"choices\" : [ { \"text\" : \"a\" } ] } \r\n", with(func(v *view) { v.Text = "a" }), true},
	}
	for _, tt := range tests {
		var c chunk
		if err := parseChunk([]byte(tt.in), &c); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, viewOf(&c)); diff != "" {
			t.Errorf("%s: %s (-want +got):\n%s", tt.name, tt.in, diff)
		}
		if c.output() != tt.output {
			t.Errorf("%s: output() = %v, want %v", tt.name, c.output(), tt.output)
		}
	}
}

func TestParseChunkErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `[DONE]`, `[]`, `"x"`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":tru}`,
		`{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}",
		`{"a":"b}`, `{} {}`, `<html>`, `{"a":[1 2]}`, string(bytes.Repeat([]byte(`{"a":`), 300))} {
		var c chunk
		if err := parseChunk([]byte(in), &c); !errors.Is(err, errSyntax) {
			t.Errorf("parseChunk(%.40q) error %v, want a syntax error", in, err)
		}
	}
}

// reference extracts the same fields with encoding/json, by the rules parseChunk documents.
func reference(data []byte) (view, bool) {
	v := view{Prompt: -1, Completion: -1}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil || top == nil {
		return v, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return v, false
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	v.ID = str(top, "id")
	if choices, ok := top["choices"].([]any); ok && len(choices) > 0 {
		if ch, ok := choices[0].(map[string]any); ok {
			v.Text, v.Finish = str(ch, "text"), str(ch, "finish_reason")
			if d, ok := ch["delta"].(map[string]any); ok {
				v.Content, v.ReasoningContent, v.Reasoning = str(d, "content"), str(d, "reasoning_content"), str(d, "reasoning")
			}
		}
	}
	if u, ok := top["usage"].(map[string]any); ok {
		num := func(k string) int64 {
			n, ok := u[k].(json.Number)
			if !ok {
				return -1
			}
			i, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil {
				return -1
			}
			return i
		}
		v.Prompt, v.Completion = num("prompt_tokens"), num("completion_tokens")
	}
	switch e := top["error"].(type) {
	case nil:
	case string:
		v.HasError, v.Error = true, e
	case map[string]any:
		v.HasError = true
		if m, ok := e["message"].(string); ok {
			v.Error = m
		} else {
			v.Error = "<json>"
		}
	default:
		v.HasError, v.Error = true, "<json>"
	}
	return v, true
}

func chunkSeeds(tb testing.TB) [][]byte {
	files, _ := filepath.Glob("../../testdata/sse/*.txt")
	var seeds [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		r := sse.NewReader(bytes.NewReader(data))
		for {
			ev, err := r.Next()
			if err != nil {
				break
			}
			seeds = append(seeds, bytes.Clone(ev.Data))
		}
	}
	return seeds
}

// FuzzParseChunk compares parseChunk with encoding/json: the same verdict on validity, and on
// valid JSON the same fields.
//
//	go test ./internal/loadgen -run '^$' -fuzz FuzzParseChunk -fuzztime 60s
func FuzzParseChunk(f *testing.F) {
	for _, s := range chunkSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte(`{"choices":[{"text":"\ud83d\ude00"}],"error":{"message":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c chunk
		err := parseChunk(data, &c)
		want, valid := reference(data)
		isObject := json.Valid(data) && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{"))
		if isObject != (err == nil) {
			// encoding/json accepts some things we do not (deep nesting beyond maxDepth).
			if !(err != nil && bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) > maxDepth) {
				t.Fatalf("parseChunk error %v, json.Valid %v", err, json.Valid(data))
			}
			return
		}
		if err != nil || !valid {
			return
		}
		got := viewOf(&c)
		if want.Error == "<json>" && got.HasError && !json.Valid([]byte(got.Error)) {
			t.Fatalf("error value %q is not the error's JSON", got.Error)
		} else if want.Error == "<json>" {
			got.Error = "<json>"
		}
		if !utf8.Valid(data) {
			return // encoding/json replaces invalid bytes one by one; only the structure is compared
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%q (-encoding/json +parseChunk):\n%s", data, diff)
		}
	})
}

func TestParseChunkDoesNotAllocate(t *testing.T) {
	data := []byte(`{"id":"cmpl-5d3a9f0c7b2e4e1f","object":"text_completion","created":1767225600,"model":"m",` +
		`"choices":[{"index":0,"text":" caf\u00e9","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":{"prompt_tokens":1,"completion_tokens":2}}`)
	var c chunk
	if n := testing.AllocsPerRun(100, func() { _ = parseChunk(data, &c) }); n != 0 {
		t.Fatalf("parseChunk allocates %v times per chunk, want 0", n)
	}
}
