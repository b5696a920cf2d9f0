package loadgen

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonString is the contents of a JSON string without its quotes, escapes intact.
type jsonString struct {
	raw []byte
	esc bool
}

// decode appends the string's text to dst.
func (j jsonString) decode(dst []byte) []byte {
	if !j.esc {
		return append(dst, j.raw...)
	}
	return unescape(dst, j.raw)
}

// chunk is what the load generator reads from one streamed JSON object of an OpenAI-compatible
// server. Byte slices point into the event's data and are valid until the next event.
type chunk struct {
	id jsonString
	// Output text of choices[0]: text (completions), delta.content (chat), and the reasoning
	// of reasoning models, delta.reasoning_content or delta.reasoning; reasoning is output too.
	text, content, reasoningContent, reasoning jsonString
	finish                                     jsonString // choices[0].finish_reason; empty when null

	promptTokens     int64 // usage; -1 when absent
	completionTokens int64

	hasError bool
	errMsg   jsonString // error.message, or the error value's JSON
}

// output reports whether the chunk carries output text: a chat delta that only names the
// role, or a finish chunk with empty text, is not a token.
func (c *chunk) output() bool {
	return len(c.text.raw) > 0 || len(c.content.raw) > 0 || len(c.reasoningContent.raw) > 0 || len(c.reasoning.raw) > 0
}

// appendOutput appends the chunk's decoded output text to dst.
func (c *chunk) appendOutput(dst []byte) []byte {
	for _, j := range [...]jsonString{c.text, c.content, c.reasoningContent, c.reasoning} {
		dst = j.decode(dst)
	}
	return dst
}

var errSyntax = errors.New("not a JSON object")

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 256

// parseChunk reads the fields it needs from one JSON object in a single pass without
// allocating. Values of unexpected types are ignored (a server's oddity is not a failure);
// malformed JSON is an error. Duplicate keys: the last one wins, as with encoding/json.
func parseChunk(data []byte, c *chunk) error {
	*c = chunk{promptTokens: -1, completionTokens: -1}
	s := scanner{b: data}
	s.ws()
	if s.peek() != '{' {
		return fmt.Errorf("chunk: %w", errSyntax)
	}
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "id":
			return s.optString(&c.id)
		case "choices":
			c.text, c.content, c.reasoningContent, c.reasoning, c.finish = jsonString{}, jsonString{}, jsonString{}, jsonString{}, jsonString{}
			if s.peek() == '[' {
				return s.array(func(i int) error {
					if i == 0 && s.peek() == '{' {
						return c.choice(&s)
					}
					return s.skip()
				})
			}
		case "usage":
			c.promptTokens, c.completionTokens = -1, -1
			if s.peek() == '{' {
				return c.usage(&s)
			}
		case "error":
			return c.error(&s)
		}
		return s.skip()
	})
	if err != nil {
		return fmt.Errorf("chunk: %w", err)
	}
	s.ws()
	if s.i != len(s.b) {
		return fmt.Errorf("chunk: %w: bytes after the object", errSyntax)
	}
	return nil
}

func (c *chunk) choice(s *scanner) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "text":
			return s.optString(&c.text)
		case "delta":
			c.content, c.reasoningContent, c.reasoning = jsonString{}, jsonString{}, jsonString{}
			if s.peek() == '{' {
				return s.object(func(key []byte) error {
					switch string(key) {
					case "content":
						return s.optString(&c.content)
					case "reasoning_content":
						return s.optString(&c.reasoningContent)
					case "reasoning":
						return s.optString(&c.reasoning)
					}
					return s.skip()
				})
			}
		case "finish_reason":
			return s.optString(&c.finish)
		}
		return s.skip()
	})
}

func (c *chunk) usage(s *scanner) error {
	return s.object(func(key []byte) error {
		switch string(key) {
		case "prompt_tokens":
			return s.optInt(&c.promptTokens)
		case "completion_tokens":
			return s.optInt(&c.completionTokens)
		}
		return s.skip()
	})
}

// error reads an error sent inside the stream: {"error": {"message": …}} (vLLM, SGLang,
// OpenAI), {"error": "text"}, or any other non-null value, kept as JSON.
func (c *chunk) error(s *scanner) error {
	c.hasError, c.errMsg = false, jsonString{}
	start := s.i
	switch s.peek() {
	case 'n':
		return s.skip()
	case '"':
		c.hasError = true
		return s.optString(&c.errMsg)
	case '{':
		c.hasError = true
		var msg jsonString
		err := s.object(func(key []byte) error {
			if string(key) == "message" {
				return s.optString(&msg)
			}
			return s.skip()
		})
		c.errMsg = msg
		if msg.raw == nil {
			c.errMsg = jsonString{raw: s.b[start:s.i]}
		}
		return err
	}
	c.hasError = true
	err := s.skip()
	c.errMsg = jsonString{raw: s.b[start:s.i]}
	return err
}

// scanner walks JSON text. Every method leaves s.i after what it read.
type scanner struct {
	b     []byte
	i     int
	depth int
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) expect(c byte) error {
	s.ws()
	if s.peek() != c {
		return fmt.Errorf("%w: want %q at byte %d", errSyntax, c, s.i)
	}
	s.i++
	return nil
}

// object calls each with every key, positioned at the key's value; each must consume it.
func (s *scanner) object(each func(key []byte) error) error {
	if err := s.enter('{'); err != nil {
		return err
	}
	s.ws()
	if s.peek() == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.ws()
		key, esc, err := s.str()
		if err != nil {
			return err
		}
		if esc {
			key = unescape(nil, key) // rare: allocates
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		s.ws()
		if err := each(key); err != nil {
			return err
		}
		if done, err := s.next('}'); done || err != nil {
			return err
		}
	}
}

// array calls each with every element's index, positioned at the element.
func (s *scanner) array(each func(i int) error) error {
	if err := s.enter('['); err != nil {
		return err
	}
	s.ws()
	if s.peek() == ']' {
		s.i++
		s.depth--
		return nil
	}
	for i := 0; ; i++ {
		s.ws()
		if err := each(i); err != nil {
			return err
		}
		if done, err := s.next(']'); done || err != nil {
			return err
		}
	}
}

func (s *scanner) enter(open byte) error {
	if s.peek() != open {
		return fmt.Errorf("%w: want %q at byte %d", errSyntax, open, s.i)
	}
	if s.depth++; s.depth > maxDepth {
		return fmt.Errorf("%w: nested deeper than %d", errSyntax, maxDepth)
	}
	s.i++
	return nil
}

// next reads the separator after a member: a comma, or the closing byte.
func (s *scanner) next(closing byte) (bool, error) {
	s.ws()
	switch s.peek() {
	case ',':
		s.i++
		return false, nil
	case closing:
		s.i++
		s.depth--
		return true, nil
	}
	return false, fmt.Errorf("%w: want ',' or %q at byte %d", errSyntax, closing, s.i)
}

// str reads a string and returns its contents without the quotes, escapes intact.
func (s *scanner) str() ([]byte, bool, error) {
	if s.peek() != '"' {
		return nil, false, fmt.Errorf("%w: want a string at byte %d", errSyntax, s.i)
	}
	start := s.i + 1
	esc := false
	for i := start; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], esc, nil
		case c == '\\':
			n, err := escapeLen(s.b[i:])
			if err != nil {
				return nil, false, err
			}
			esc = true
			i += n - 1
		case c < 0x20:
			return nil, false, fmt.Errorf("%w: control byte in a string at byte %d", errSyntax, i)
		}
	}
	return nil, false, fmt.Errorf("%w: unterminated string", errSyntax)
}

// escapeLen validates the escape at b[0] == '\\' and returns its length.
func escapeLen(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("%w: unterminated escape", errSyntax)
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		if len(b) < 6 || !isHex(b[2]) || !isHex(b[3]) || !isHex(b[4]) || !isHex(b[5]) {
			return 0, fmt.Errorf("%w: bad \\u escape", errSyntax)
		}
		return 6, nil
	}
	return 0, fmt.Errorf("%w: bad escape \\%c", errSyntax, b[1])
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// optString reads a string into *dst, or clears it for any other value.
func (s *scanner) optString(dst *jsonString) error {
	*dst = jsonString{}
	if s.peek() != '"' {
		return s.skip()
	}
	raw, esc, err := s.str()
	*dst = jsonString{raw: raw, esc: esc}
	return err
}

// optInt reads an integer into *dst, or sets -1 for any other value (floats included).
func (s *scanner) optInt(dst *int64) error {
	*dst = -1
	start := s.i
	if err := s.skip(); err != nil {
		return err
	}
	if v, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64); err == nil {
		*dst = v
	}
	return nil
}

// skip reads and validates any value.
func (s *scanner) skip() error {
	switch c := s.peek(); {
	case c == '"':
		_, _, err := s.str()
		return err
	case c == '{':
		return s.object(func([]byte) error { return s.skip() })
	case c == '[':
		return s.array(func(int) error { return s.skip() })
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	}
	return fmt.Errorf("%w: want a value at byte %d", errSyntax, s.i)
}

func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return fmt.Errorf("%w: want %s at byte %d", errSyntax, lit, s.i)
	}
	s.i += len(lit)
	return nil
}

// number validates a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	start := s.i
	bad := func() error { return fmt.Errorf("%w: malformed number at byte %d", errSyntax, start) }
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return bad()
	}
	if s.peek() == '.' {
		s.i++
		if s.digits() == 0 {
			return bad()
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if s.digits() == 0 {
			return bad()
		}
	}
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// unescape appends the decoded contents of a validated JSON string to dst. Invalid UTF-8 and
// lone surrogates become U+FFFD, as encoding/json does.
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				dst = append(dst, c)
				i++
				continue
			}
			r, n := utf8.DecodeRune(raw[i:])
			dst = utf8.AppendRune(dst, r) // RuneError for invalid bytes
			i += n
			continue
		}
		switch raw[i+1] {
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = hex4(raw[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c <= '9':
			r |= rune(c - '0')
		case c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			r |= rune(c - 'a' + 10)
		}
	}
	return r
}
