package loadgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
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

	hasChoice bool // choices is a non-empty list: a chunk vLLM's own client times

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
	s.object(func(key []byte) {
		switch string(key) {
		case "id":
			s.optString(&c.id)
		case "choices":
			c.text, c.content, c.reasoningContent, c.reasoning, c.finish = jsonString{}, jsonString{}, jsonString{}, jsonString{}, jsonString{}
			c.hasChoice = false
			if s.peek() != '[' {
				s.skip()
				return
			}
			s.array(func(i int) {
				c.hasChoice = true
				if i == 0 && s.peek() == '{' {
					c.choice(&s)
					return
				}
				s.skip()
			})
		case "usage":
			c.promptTokens, c.completionTokens = -1, -1
			if s.peek() != '{' {
				s.skip()
				return
			}
			c.usage(&s)
		case "error":
			c.error(&s)
		default:
			s.skip()
		}
	})
	if s.err == nil {
		s.ws()
		if s.i != len(s.b) {
			s.fail("bytes after the object")
		}
	}
	if s.err != nil {
		return fmt.Errorf("chunk: %w", s.err)
	}
	return nil
}

func (c *chunk) choice(s *scanner) {
	s.object(func(key []byte) {
		switch string(key) {
		case "text":
			s.optString(&c.text)
		case "delta":
			c.content, c.reasoningContent, c.reasoning = jsonString{}, jsonString{}, jsonString{}
			if s.peek() != '{' {
				s.skip()
				return
			}
			s.object(func(key []byte) {
				switch string(key) {
				case "content":
					s.optString(&c.content)
				case "reasoning_content":
					s.optString(&c.reasoningContent)
				case "reasoning":
					s.optString(&c.reasoning)
				default:
					s.skip()
				}
			})
		case "finish_reason":
			s.optString(&c.finish)
		default:
			s.skip()
		}
	})
}

func (c *chunk) usage(s *scanner) {
	s.object(func(key []byte) {
		switch string(key) {
		case "prompt_tokens":
			s.optInt(&c.promptTokens)
		case "completion_tokens":
			s.optInt(&c.completionTokens)
		default:
			s.skip()
		}
	})
}

// error reads an error sent inside the stream: {"error": {"message": …}} (vLLM, SGLang,
// OpenAI), {"error": "text"}, or any other non-null value, kept as JSON.
func (c *chunk) error(s *scanner) {
	c.hasError, c.errMsg = false, jsonString{}
	start := s.i
	switch s.peek() {
	case 'n':
		s.skip()
		return
	case '"':
		c.hasError = true
		s.optString(&c.errMsg)
		return
	case '{':
		c.hasError = true
		var msg jsonString
		s.object(func(key []byte) {
			if string(key) == "message" {
				s.optString(&msg)
				return
			}
			s.skip()
		})
		c.errMsg = msg
		if msg.raw == nil {
			c.errMsg = jsonString{raw: s.b[start:s.i]}
		}
		return
	}
	c.hasError = true
	s.skip()
	c.errMsg = jsonString{raw: s.b[start:s.i]}
}

// scanner walks JSON text. Every method leaves s.i after what it read. The first syntax error
// is kept in err and stops the walk (s.i jumps to the end).
type scanner struct {
	b     []byte
	i     int
	depth int
	err   error
}

func (s *scanner) fail(what string) {
	if s.err == nil {
		s.err = fmt.Errorf("%w: %s at byte %d", errSyntax, what, s.i)
	}
	s.i = len(s.b)
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) ws() {
	for s.i < len(s.b) && space[s.b[s.i]] {
		s.i++
	}
}

var space = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

// object calls each with every key, positioned at the key's value; each must consume it.
func (s *scanner) object(each func(key []byte)) {
	if !s.enter('{') {
		return
	}
	s.ws()
	if s.peek() == '}' {
		s.i++
		s.depth--
		return
	}
	for {
		s.ws()
		key, esc := s.str()
		if s.err != nil {
			return
		}
		if esc {
			key = unescape(nil, key) // rare: allocates
		}
		if s.peek() != ':' {
			if s.ws(); s.peek() != ':' {
				s.fail("want ':'")
				return
			}
		}
		s.i++
		s.ws()
		each(key)
		if !s.next('}') {
			return
		}
	}
}

// array calls each with every element's index, positioned at the element.
func (s *scanner) array(each func(i int)) {
	if !s.enter('[') {
		return
	}
	s.ws()
	if s.peek() == ']' {
		s.i++
		s.depth--
		return
	}
	for i := 0; ; i++ {
		s.ws()
		each(i)
		if !s.next(']') {
			return
		}
	}
}

func (s *scanner) enter(open byte) bool {
	if s.peek() != open {
		s.fail("want " + string(open))
		return false
	}
	if s.depth++; s.depth > maxDepth {
		s.fail("nested too deep")
		return false
	}
	s.i++
	return true
}

// next reads the separator after a member; true means another member follows.
func (s *scanner) next(closing byte) bool {
	if s.err != nil {
		return false
	}
	c := s.peek()
	if c != ',' && c != closing {
		s.ws()
		c = s.peek()
	}
	switch c {
	case ',':
		s.i++
		return true
	case closing:
		s.i++
		s.depth--
		return false
	}
	s.fail("want ',' or " + string(closing))
	return false
}

// str reads a string and returns its contents without the quotes, escapes intact. It looks at
// eight bytes at a time for a quote, a backslash or a control byte (SWAR: "Bit Twiddling
// Hacks", determining if a word has a byte less than n); the lowest byte flagged is exact.
func (s *scanner) str() ([]byte, bool) {
	if s.peek() != '"' {
		s.fail("want a string")
		return nil, false
	}
	b := s.b
	start := s.i + 1
	esc := false
	for i := start; i < len(b); {
		if i+8 <= len(b) {
			m := special(binary.LittleEndian.Uint64(b[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return b[start:i], esc
		case c == '\\':
			n := escapeLen(b[i:])
			if n == 0 {
				s.i = i
				s.fail("bad escape")
				return nil, false
			}
			esc = true
			i += n
		case c < 0x20:
			s.i = i
			s.fail("control byte in a string")
			return nil, false
		default:
			i++
		}
	}
	s.fail("unterminated string")
	return nil, false
}

// special flags the bytes of x that are '"', '\\' or below 0x20 (high bit of each byte).
func special(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return ((q-ones)&^q | (bs-ones)&^bs | (x-ones*0x20)&^x) & highs
}

// escapeLen validates the escape at b[0] == '\\' and returns its length, 0 if it is bad.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) < 6 || !isHex(b[2]) || !isHex(b[3]) || !isHex(b[4]) || !isHex(b[5]) {
			return 0
		}
		return 6
	}
	return 0
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// optString reads a string into *dst, or clears it for any other value.
func (s *scanner) optString(dst *jsonString) {
	if s.peek() != '"' {
		*dst = jsonString{}
		s.skip()
		return
	}
	raw, esc := s.str()
	*dst = jsonString{raw: raw, esc: esc}
}

// optInt reads an integer into *dst, or sets -1 for any other value (floats included).
func (s *scanner) optInt(dst *int64) {
	*dst = -1
	start := s.i
	if s.skip(); s.err != nil {
		return
	}
	if v, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64); err == nil {
		*dst = v
	}
}

// skip reads and validates any value.
func (s *scanner) skip() {
	switch c := s.peek(); {
	case c == '"':
		s.str()
	case c == '{':
		s.object(func([]byte) { s.skip() })
	case c == '[':
		s.array(func(int) { s.skip() })
	case c == 't':
		s.literal("true")
	case c == 'f':
		s.literal("false")
	case c == 'n':
		s.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		s.number()
	default:
		s.fail("want a value")
	}
}

func (s *scanner) literal(lit string) {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		s.fail("want " + lit)
		return
	}
	s.i += len(lit)
}

// number validates a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		s.fail("malformed number")
		return
	}
	if s.peek() == '.' {
		s.i++
		if s.digits() == 0 {
			s.fail("malformed number")
			return
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if s.digits() == 0 {
			s.fail("malformed number")
		}
	}
}

func (s *scanner) digits() int {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
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
