package tokenizer

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// splitter cuts text into pieces with a tiktoken/Hugging Face pre-tokenizer pattern. Go's
// regexp has no look-ahead, so the patterns' "\s+(?!\S)|\s+" ending is matched as one
// captured "\s+" and given back its last character when a non-space follows, which is what
// the look-ahead does. "\s" is Unicode White_Space, as in Rust's and Python's regex engines.
type splitter struct {
	re  *regexp.Regexp
	ws  int    // index of the capture group of the trailing whitespace alternative; 0: none
	sep string // instead of re: cut before every occurrence (SentencePiece's ▁)
}

const lookaheadTail = `\s+(?!\S)|\s+`

// whiteSpace is Unicode's White_Space property as Go's regexp classes can write it.
const whiteSpace = `\t\n\v\f\r\x{85}\p{Z}`

func newSplitter(pattern string) (*splitter, error) {
	tail := strings.HasSuffix(pattern, lookaheadTail)
	if tail {
		pattern = strings.TrimSuffix(pattern, lookaheadTail) + `(\s+)`
	}
	if strings.Contains(pattern, "(?!") || strings.Contains(pattern, "(?=") || strings.Contains(pattern, "(?<") {
		return nil, fmt.Errorf("%w: pre-tokenizer pattern %q uses look-around", ErrUnsupported, pattern)
	}
	re, err := regexp.Compile(translateSpace(pattern))
	if err != nil {
		return nil, fmt.Errorf("pre-tokenizer pattern: %w", err)
	}
	ws := 0
	if tail {
		ws = re.NumSubexp() // the tail group is the last one
	}
	return &splitter{re: re, ws: ws}, nil
}

// translateSpace rewrites \s and \S for Go: a class of their own outside brackets, their
// members inside.
func translateSpace(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			switch {
			case n == 's' && inClass:
				b.WriteString(whiteSpace)
			case n == 's':
				b.WriteString("[" + whiteSpace + "]")
			case n == 'S' && !inClass:
				b.WriteString("[^" + whiteSpace + "]")
			default:
				b.WriteByte(c)
				b.WriteByte(n)
			}
			i++
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
		case c == ']' && inClass:
			inClass = false
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// step is the splitter as a pre-tokenizer step: every piece is cut, and only the first part of
// a piece that began the input begins it.
func (s *splitter) step(in []piece) []piece {
	var out []piece
	for _, p := range in {
		for i, part := range s.split(p.text) {
			out = append(out, piece{text: part, start: p.start && i == 0})
		}
	}
	return out
}

// split cuts text into pieces.
func (s *splitter) split(text string) []string {
	var out []string
	if s.sep != "" {
		return splitBefore(text, s.sep)
	}
	for pos := 0; pos < len(text); {
		m := s.re.FindStringSubmatchIndex(text[pos:])
		if m == nil || m[1] == 0 {
			// No match here (the pattern does not cover this character): one rune alone.
			_, n := utf8.DecodeRuneInString(text[pos:])
			out, pos = append(out, text[pos:pos+n]), pos+n
			continue
		}
		start, end := m[0], m[1]
		if s.ws > 0 && m[2*s.ws] >= 0 && pos+end < len(text) {
			// "\s+(?!\S)": a run followed by a non-space keeps its last character for the next piece.
			if _, n := utf8.DecodeLastRuneInString(text[pos+start : pos+end]); end-start > n {
				end -= n
			}
		}
		if start > 0 {
			out = append(out, text[pos:pos+start])
		}
		out = append(out, text[pos+start:pos+end])
		pos += end
	}
	return out
}

// splitBefore cuts text before every occurrence of sep but a leading one.
func splitBefore(text, sep string) []string {
	var out []string
	start := 0
	for i := 1; i < len(text); {
		j := strings.Index(text[i:], sep)
		if j < 0 {
			break
		}
		out, start = append(out, text[start:i+j]), i+j
		i += j + len(sep)
	}
	return append(out, text[start:])
}
