package sim

import (
	"encoding/json"
	"strconv"
)

// words are the simulator's output tokens: each is one token for tokens.Count (a space and at
// most four letters), so a client can recount a response exactly.
var words = [...]string{" the", " of", " and", " to", " in", " is", " it", " that", " for", " on", " as",
	" with", " was", " he", " be", " at", " by", " this", " had", " not", " are", " but", " from", " or",
	" have", " an", " they", " one", " you", " were", " her", " all", " she", " when", " we", " can",
	" more", " so", " said", " will"}

// outputText is tokens n of a response, from token index first.
func appendWords(b []byte, first, n int) []byte {
	for i := range n {
		b = append(b, words[(first+i)%len(words)]...)
	}
	return b
}

// encoder writes a response's server-sent events exactly as vLLM's OpenAI server does:
// completions put text in choices[0].text; chat sends a first delta with the role and empty
// content, then content deltas; the last token's chunk carries finish_reason; a usage chunk
// with empty choices follows when stream_options.include_usage is set; then data: [DONE].
type encoder struct {
	kind       apiKind
	head       []byte // data: {"id":…,"object":…,"created":…,"model":…,
	prompt     int
	sent       int // output tokens written so far
	continuous bool
	buf        []byte
}

func newEncoder(kind apiKind, id string, created int64, model string, prompt int, continuous bool) *encoder {
	obj := "text_completion"
	if kind == apiChat {
		obj = "chat.completion.chunk"
	}
	m, _ := json.Marshal(model)
	idj, _ := json.Marshal(id)
	head := []byte(`data: {"id":`)
	head = append(head, idj...)
	head = append(head, `,"object":"`+obj+`","created":`...)
	head = strconv.AppendInt(head, created, 10)
	head = append(head, `,"model":`...)
	head = append(head, m...)
	head = append(head, ',')
	return &encoder{kind: kind, head: head, prompt: prompt, continuous: continuous, buf: make([]byte, 0, 512)}
}

// role is chat's first chunk: the assistant role and empty content, no token.
func (e *encoder) role() []byte {
	b := append(e.buf[:0], e.head...)
	b = append(b, `"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]`...)
	if e.continuous {
		b = e.appendUsage(append(b, ','), 0)
	}
	e.buf = append(b, "}\n\n"...)
	return e.buf
}

// content is the chunk of the next n tokens; finish is the finish reason when they end the
// response, else "".
func (e *encoder) content(n int, finish string) []byte {
	b := append(e.buf[:0], e.head...)
	if e.kind == apiChat {
		b = append(b, `"choices":[{"index":0,"delta":{"content":"`...)
		b = appendWords(b, e.sent, n)
		b = append(b, `"},"logprobs":null,`...)
	} else {
		b = append(b, `"choices":[{"index":0,"text":"`...)
		b = appendWords(b, e.sent, n)
		b = append(b, `","logprobs":null,`...)
	}
	e.sent += n
	if finish == "" {
		b = append(b, `"finish_reason":null`...)
		if e.kind == apiCompletions {
			b = append(b, `,"stop_reason":null`...)
		}
	} else {
		b = append(b, `"finish_reason":"`+finish+`","stop_reason":null`...)
	}
	b = append(b, "}]"...)
	if e.continuous {
		b = e.appendUsage(append(b, ','), e.sent)
	}
	e.buf = append(b, "}\n\n"...)
	return e.buf
}

// usage is the final usage chunk, with empty choices.
func (e *encoder) usage() []byte {
	b := append(e.buf[:0], e.head...)
	b = append(b, `"choices":[],`...)
	b = e.appendUsage(b, e.sent)
	e.buf = append(b, "}\n\n"...)
	return e.buf
}

func (e *encoder) appendUsage(b []byte, completion int) []byte {
	b = append(b, `"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(e.prompt), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(e.prompt+completion), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(completion), 10)
	return append(b, '}')
}

// malformed is a broken chunk that stands in for the next n tokens (a fault).
func (e *encoder) malformed(n int) []byte {
	b := append(e.buf[:0], e.head...)
	b = append(b, `"choices":[{"index":0,"text":"`...)
	b = appendWords(b, e.sent, n)
	e.sent += n
	e.buf = append(b, "\n\n"...)
	return e.buf
}

var doneEvent = []byte("data: [DONE]\n\n")

// usageJSON is the usage object of a whole response.
type usageJSON struct {
	PromptTokens     int `json:"prompt_tokens"`
	TotalTokens      int `json:"total_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	// PromptTokensDetails is always null: the simulator has no prefix cache.
	PromptTokensDetails *struct{} `json:"prompt_tokens_details"`
}

// fullResponse is a non-streamed response.
func fullResponse(kind apiKind, id string, created int64, model string, prompt, n int, finish string) ([]byte, error) {
	text := string(appendWords(nil, 0, n))
	usage := usageJSON{PromptTokens: prompt, TotalTokens: prompt + n, CompletionTokens: n}
	if kind == apiChat {
		type message struct {
			Role      string `json:"role"`
			Content   string `json:"content"`
			ToolCalls []any  `json:"tool_calls"`
		}
		type choice struct {
			Index        int     `json:"index"`
			Message      message `json:"message"`
			Logprobs     *string `json:"logprobs"`
			FinishReason string  `json:"finish_reason"`
			StopReason   *string `json:"stop_reason"`
		}
		return marshal(struct {
			ID      string    `json:"id"`
			Object  string    `json:"object"`
			Created int64     `json:"created"`
			Model   string    `json:"model"`
			Choices []choice  `json:"choices"`
			Usage   usageJSON `json:"usage"`
		}{id, "chat.completion", created, model,
			[]choice{{Message: message{Role: "assistant", Content: text, ToolCalls: []any{}}, FinishReason: finish}}, usage}), nil
	}
	type choice struct {
		Index        int     `json:"index"`
		Text         string  `json:"text"`
		Logprobs     *string `json:"logprobs"`
		FinishReason string  `json:"finish_reason"`
		StopReason   *string `json:"stop_reason"`
	}
	return marshal(struct {
		ID      string    `json:"id"`
		Object  string    `json:"object"`
		Created int64     `json:"created"`
		Model   string    `json:"model"`
		Choices []choice  `json:"choices"`
		Usage   usageJSON `json:"usage"`
	}{id, "text_completion", created, model, []choice{{Text: text, FinishReason: finish}}, usage}), nil
}
