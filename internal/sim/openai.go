package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/llmscale/llmscale/internal/tokens"
)

// API kinds.
type apiKind uint8

const (
	apiCompletions apiKind = iota
	apiChat
)

// maxBodyBytes bounds a request body (vLLM has no such limit, but a simulator needs one).
const maxBodyBytes = 64 << 20

// defaultCompletionMaxTokens is vLLM's (and OpenAI's) default max_tokens for /v1/completions.
const defaultCompletionMaxTokens = 16

// apiError is an error response in vLLM's shape: current releases send
// {"error": {"message": …, "type": "BadRequestError", "param": null, "code": 400}}, older ones
// {"object": "error", "message": …, "type": …, "param": null, "code": 400} (ErrorFormatLegacy).
type apiError struct {
	Status  int
	Type    string
	Message string
	Param   string
}

func (e *apiError) Error() string { return e.Message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "BadRequestError", Message: fmt.Sprintf(format, args...)}
}

// errorType names an HTTP status the way vLLM's error responses do.
func errorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "BadRequestError"
	case http.StatusNotFound:
		return "NotFoundError"
	case http.StatusTooManyRequests:
		return "RateLimitError"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailableError"
	case http.StatusInternalServerError:
		return "InternalServerError"
	}
	if status >= 500 {
		return "InternalServerError"
	}
	return "BadRequestError"
}

func (e *apiError) body(legacy bool) []byte {
	var param *string
	if e.Param != "" {
		param = &e.Param
	}
	if legacy {
		return marshal(struct {
			Object  string  `json:"object"`
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    int     `json:"code"`
		}{"error", e.Message, e.Type, param, e.Status})
	}
	type info struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    int     `json:"code"`
	}
	return marshal(struct {
		Error info `json:"error"`
	}{info{Message: e.Message, Type: e.Type, Param: param, Code: e.Status}})
}

// marshal is json.Marshal without HTML escaping (Python's json.dumps leaves '<' and '>' alone).
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{"error":{"message":"internal error","type":"InternalServerError","param":null,"code":500}}`)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// writeError answers with e in the configured error format.
func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	w.Write(e.body(s.eff.ErrorFormat == ErrorFormatLegacy))
}

// streamOptions is the request's stream_options.
type streamOptions struct {
	IncludeUsage         bool `json:"include_usage"`
	ContinuousUsageStats bool `json:"continuous_usage_stats"`
}

// wireRequest is the union of the fields of a completions and a chat request that the
// simulator reads; it ignores the others, as vLLM does.
type wireRequest struct {
	Model               string          `json:"model"`
	Prompt              json.RawMessage `json:"prompt"`
	Messages            []wireMessage   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	IgnoreEOS           bool            `json:"ignore_eos"`
	N                   *int            `json:"n"`
}

type wireMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// apiRequest is a parsed, validated request.
type apiRequest struct {
	kind          apiKind
	model         string
	promptTokens  int
	maxTokens     int // resolved
	maxTokensSet  bool
	stream        bool
	includeUsage  bool
	continuousUse bool
	ignoreEOS     bool
}

// parseRequest reads and checks a completions or chat request. Every failure is an *apiError.
func parseRequest(body io.Reader, kind apiKind, servedModel string, maxModelLen int) (apiRequest, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxBodyBytes+1))
	if err != nil {
		return apiRequest{}, badRequest("read request body: %v", err)
	}
	if len(data) > maxBodyBytes {
		return apiRequest{}, badRequest("request body larger than %d bytes", maxBodyBytes)
	}
	var wr wireRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&wr); err != nil {
		return apiRequest{}, badRequest("invalid JSON body: %v", err)
	}
	req := apiRequest{kind: kind, model: wr.Model, stream: wr.Stream, ignoreEOS: wr.IgnoreEOS}
	if wr.StreamOptions != nil {
		if !wr.Stream {
			return req, badRequest("Stream options can only be defined when `stream=True`.")
		}
		req.includeUsage, req.continuousUse = wr.StreamOptions.IncludeUsage, wr.StreamOptions.ContinuousUsageStats
	}
	if wr.Model != "" && wr.Model != servedModel {
		return req, &apiError{Status: http.StatusNotFound, Type: "NotFoundError", Param: "model",
			Message: fmt.Sprintf("The model `%s` does not exist.", wr.Model)}
	}
	req.model = servedModel
	if wr.N != nil && *wr.N != 1 {
		return req, badRequest("the simulator serves n=1 only (got n=%d)", *wr.N)
	}
	if err := req.countPrompt(wr); err != nil {
		return req, err
	}
	return req, req.resolveMaxTokens(wr, maxModelLen)
}

func (r *apiRequest) countPrompt(wr wireRequest) error {
	var err error
	if r.kind == apiChat {
		r.promptTokens, err = chatPromptTokens(wr.Messages)
	} else {
		r.promptTokens, err = completionPromptTokens(wr.Prompt)
	}
	if err != nil {
		return err
	}
	if r.promptTokens == 0 {
		return badRequest("The prompt cannot be empty.")
	}
	return nil
}

// resolveMaxTokens applies vLLM's defaults and context-length checks.
func (r *apiRequest) resolveMaxTokens(wr wireRequest, maxModelLen int) error {
	mt := wr.MaxTokens
	if r.kind == apiChat && wr.MaxCompletionTokens != nil {
		mt = wr.MaxCompletionTokens
	}
	if r.promptTokens >= maxModelLen {
		return badRequest("This model's maximum context length is %d tokens. However, your request has %d input tokens. "+
			"Please reduce the length of the input messages.", maxModelLen, r.promptTokens)
	}
	switch {
	case mt != nil:
		r.maxTokens, r.maxTokensSet = *mt, true
	case r.kind == apiCompletions:
		r.maxTokens = defaultCompletionMaxTokens
	default:
		r.maxTokens = maxModelLen - r.promptTokens
	}
	if r.maxTokens < 1 {
		return badRequest("max_tokens must be at least 1, got %d.", r.maxTokens)
	}
	if r.promptTokens+r.maxTokens > maxModelLen {
		return badRequest("'max_tokens' or 'max_completion_tokens' is too large: %d. This model's maximum context length "+
			"is %d tokens and your request has %d input tokens (%d > %d - %d).",
			r.maxTokens, maxModelLen, r.promptTokens, r.maxTokens, maxModelLen, r.promptTokens)
	}
	return nil
}

// completionPromptTokens counts a completions prompt: text with tokens.Count, token IDs by
// length. A list must hold exactly one prompt.
func completionPromptTokens(raw json.RawMessage) (int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return 0, badRequest("Either prompt or prompt_embeds must be provided and non-empty.")
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		return tokens.Count(text), nil
	}
	var ids []int64
	if json.Unmarshal(raw, &ids) == nil {
		return len(ids), nil
	}
	var texts []string
	if json.Unmarshal(raw, &texts) == nil {
		if len(texts) != 1 {
			return 0, badRequest("the simulator serves one prompt per request (got %d)", len(texts))
		}
		return tokens.Count(texts[0]), nil
	}
	var idLists [][]int64
	if json.Unmarshal(raw, &idLists) == nil {
		if len(idLists) != 1 {
			return 0, badRequest("the simulator serves one prompt per request (got %d)", len(idLists))
		}
		return len(idLists[0]), nil
	}
	return 0, badRequest("prompt must be a string, a list of strings, a list of token IDs or a list of such lists")
}

// Llama 3's chat template adds <|begin_of_text|> once, <|start_header_id|>role<|end_header_id|>
// "\n\n" before and <|eot_id|> after every message, and the assistant header at the end.
const (
	chatBOSTokens        = 1
	chatPerMessageTokens = 5
	chatGenPromptTokens  = 4
)

// chatPromptTokens counts a chat prompt as Llama 3's template renders it: the messages'
// text (tokens.Count) plus the template's special tokens.
func chatPromptTokens(msgs []wireMessage) (int, error) {
	if len(msgs) == 0 {
		return 0, badRequest("messages must not be empty")
	}
	n := chatBOSTokens + chatGenPromptTokens
	for i, m := range msgs {
		text, err := messageText(m.Content)
		if err != nil {
			return 0, badRequest("messages[%d].content: %v", i, err)
		}
		n += chatPerMessageTokens + tokens.Count(text)
	}
	return n, nil
}

// messageText reads a message's content: a string, or a list of parts whose "text" parts
// count.
func messageText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", errors.New("want a string or a list of content parts")
	}
	var b bytes.Buffer
	for _, p := range parts {
		if p.Type == "text" || p.Type == "" {
			b.WriteString(p.Text)
		}
	}
	return b.String(), nil
}
