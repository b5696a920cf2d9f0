package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// special is an added token (tokenizer.json's added_tokens), matched in the text before the
// model sees it: in the raw text, or, when normalized, in the normalised text (its content
// normalised too). lstrip and rstrip swallow the white space beside a match; a single_word
// token matches only where no word character touches it.
type special struct {
	text           string
	id             int
	lstrip, rstrip bool
	singleWord     bool
}

// addedMatch is one added token found in a text: the bytes it takes (white space it strips
// included) and its id.
type addedMatch struct {
	start, stop, id int
}

// findAdded finds the added tokens of list in s, leftmost first and the longest of those
// starting at the same place, as tokenizers' AddedVocabulary does.
func findAdded(s string, list []special) []addedMatch {
	var out []addedMatch
	consumed := 0 // end of the previous match: lstrip does not reach before it
	for pos := 0; pos < len(s); {
		at, sp := nextAdded(s[pos:], list)
		if sp == nil {
			break
		}
		start, stop := pos+at, pos+at+len(sp.text)
		pos = stop
		if sp.singleWord && (endsWithWord(s[:start]) || startsWithWord(s[stop:])) {
			continue // inside a word: ordinary text
		}
		if sp.lstrip {
			start = max(len(strings.TrimRightFunc(s[:start], isWhiteSpace)), consumed)
		}
		if sp.rstrip {
			stop = len(s) - len(strings.TrimLeftFunc(s[stop:], isWhiteSpace))
			pos = stop
		}
		out = append(out, addedMatch{start: start, stop: stop, id: sp.id})
		consumed = stop
	}
	return out
}

// nextAdded finds the first added token in text: its offset and the token (nil: none).
func nextAdded(text string, list []special) (int, *special) {
	best, at := (*special)(nil), len(text)
	for i := range list {
		if j := strings.Index(text, list[i].text); j >= 0 && (j < at || (j == at && best != nil && len(list[i].text) > len(best.text))) {
			best, at = &list[i], j
		}
	}
	return at, best
}

// splitAdded cuts s at the added tokens of list: each stretch of other text goes to plain
// (with whether it begins s), each token's id to out.
func splitAdded(s string, list []special, out *[]int, plain func(text string, first bool)) {
	prev := 0
	for _, m := range findAdded(s, list) {
		if m.start > prev {
			plain(s[prev:m.start], prev == 0)
		}
		*out = append(*out, m.id)
		prev = m.stop
	}
	if prev < len(s) {
		plain(s[prev:], prev == 0)
	}
}

// isWordChar is the regex crate's Unicode \w: alphabetic, marks, decimal digits, connector
// punctuation and joiners.
func isWordChar(r rune) bool {
	return unicode.In(r, unicode.L, unicode.Nl, unicode.Other_Alphabetic, unicode.M, unicode.Nd, unicode.Pc, unicode.Join_Control)
}

func endsWithWord(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && isWordChar(r)
}

func startsWithWord(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && isWordChar(r)
}
