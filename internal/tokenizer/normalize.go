package tokenizer

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// normalizer reads the normaliser (a step or a Sequence of steps) into one function; nil
// when there is none.
func normalizer(raw json.RawMessage) (func(string) string, error) {
	s, err := decodeStep(raw)
	if err != nil || s == nil {
		return nil, err
	}
	steps, err := sequence(s, s.Normalizers)
	if err != nil {
		return nil, err
	}
	var fns []func(string) string
	for _, s := range steps {
		f, err := normalizerStep(s)
		if err != nil {
			return nil, err
		}
		fns = append(fns, f)
	}
	return func(x string) string {
		for _, f := range fns {
			x = f(x)
		}
		return x
	}, nil
}

func normalizerStep(s *step) (func(string) string, error) {
	switch s.Type {
	case "Prepend":
		p := s.Prepend
		return func(x string) string { return p + x }, nil
	case "Replace":
		return replaceStep(s)
	case "NFC":
		return norm.NFC.String, nil
	case "NFD":
		return norm.NFD.String, nil
	case "NFKC":
		return norm.NFKC.String, nil
	case "NFKD":
		return norm.NFKD.String, nil
	case "Lowercase":
		return lowercase, nil
	case "StripAccents":
		return stripMarks, nil
	case "Strip":
		left, right := s.StripLeft, s.StripRight
		return func(x string) string {
			if left {
				x = strings.TrimLeftFunc(x, isWhiteSpace)
			}
			if right {
				x = strings.TrimRightFunc(x, isWhiteSpace)
			}
			return x
		}, nil
	case "BertNormalizer":
		return bertNormalizer(s), nil
	case "Precompiled":
		if s.PrecompiledCharsmap == nil || *s.PrecompiledCharsmap == "" {
			return nil, fmt.Errorf("normalizer Precompiled without its precompiled_charsmap")
		}
		p, err := parsePrecompiled(*s.PrecompiledCharsmap)
		if err != nil {
			return nil, err
		}
		return p.normalize, nil
	}
	return nil, fmt.Errorf("%w: normalizer %q", ErrUnsupported, s.Type)
}

// replaceStep replaces a string or every match of a regex (no look-around) with content.
func replaceStep(s *step) (func(string) string, error) {
	to := s.Content
	if from := s.Pattern["String"]; from != "" {
		return func(x string) string { return strings.ReplaceAll(x, from, to) }, nil
	}
	pat := s.Pattern["Regex"]
	if pat == "" || strings.Contains(pat, "(?=") || strings.Contains(pat, "(?!") || strings.Contains(pat, "(?<") {
		return nil, fmt.Errorf("%w: normalizer Replace with pattern %v (a string or a regex without look-around)", ErrUnsupported, s.Pattern)
	}
	re, err := regexp.Compile(translateSpace(pat))
	if err != nil {
		return nil, fmt.Errorf("normalizer Replace: pattern %q: %w", pat, err)
	}
	return func(x string) string { return re.ReplaceAllLiteralString(x, to) }, nil
}

// bertNormalizer is BERT's: drop control characters, NUL and U+FFFD and turn white space into
// spaces; put spaces around CJK ideographs; strip accents (NFD, then drop non-spacing marks);
// lowercase — each when its option is on, in that order (tokenizers' bert.rs).
func bertNormalizer(s *step) func(string) string {
	on := func(b *bool, def bool) bool {
		if b == nil {
			return def
		}
		return *b
	}
	clean, cjk, lower := on(s.CleanText, true), on(s.HandleChineseChars, true), on(s.Lowercase, true)
	strip := on(s.StripAccents, lower)
	return func(x string) string {
		if clean {
			x = strings.Map(bertClean, x)
		}
		if cjk {
			x = spaceCJK(x)
		}
		if strip {
			x = strings.Map(dropNonSpacing, norm.NFD.String(x))
		}
		if lower {
			x = lowercase(x)
		}
		return x
	}
}

func bertClean(r rune) rune {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || isWhiteSpace(r):
		return ' '
	case r == 0 || r == unicode.ReplacementChar || isOther(r):
		return -1
	}
	return r
}

func dropNonSpacing(r rune) rune {
	if unicode.Is(unicode.Mn, r) {
		return -1
	}
	return r
}

// stripMarks is the StripAccents normaliser: every combining mark (M*) goes; it is used after
// NFD, which separates accents from their letters.
func stripMarks(x string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.M, r) {
			return -1
		}
		return r
	}, x)
}

// lowercase lowers each character on its own, as Rust's char::to_lowercase: Go's simple
// mapping plus the one unconditional multi-character lowering, İ → i̇ (no final-sigma rule,
// which depends on context and tokenizers does not apply).
func lowercase(x string) string {
	if !strings.ContainsRune(x, 'İ') {
		return strings.Map(unicode.ToLower, x)
	}
	var b strings.Builder
	for _, r := range x {
		if r == 'İ' {
			b.WriteString("i\u0307")
		} else {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// spaceCJK puts a space on each side of every CJK ideograph (BERT's handle_chinese_chars).
func spaceCJK(x string) string {
	if !strings.ContainsFunc(x, isCJK) {
		return x
	}
	var b strings.Builder
	for _, r := range x {
		if isCJK(r) {
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// cjkRanges are the blocks BERT treats as Chinese characters (tokenizers' is_chinese_char).
var cjkRanges = [][2]rune{{0x4E00, 0x9FFF}, {0x3400, 0x4DBF}, {0x20000, 0x2A6DF}, {0x2A700, 0x2B73F},
	{0x2B740, 0x2B81F}, {0x2B920, 0x2CEAF}, {0xF900, 0xFAFF}, {0x2F800, 0x2FA1F}}

func isCJK(r rune) bool {
	for _, c := range cjkRanges {
		if r >= c[0] && r <= c[1] {
			return true
		}
	}
	return false
}

// isWhiteSpace is Unicode's White_Space property, Rust's char::is_whitespace.
func isWhiteSpace(r rune) bool { return unicode.Is(unicode.White_Space, r) }

// isOther is Rust's unicode_categories is_other: Cc, Cf, Co, Cs or unassigned (Cn).
func isOther(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) ||
		!unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// isBertPunct is BERT's punctuation: ASCII punctuation (symbols such as $ + < = > ^ ` | ~
// included) or Unicode P*.
func isBertPunct(r rune) bool {
	if r < 0x80 {
		return (r >= 0x21 && r <= 0x2F) || (r >= 0x3A && r <= 0x40) || (r >= 0x5B && r <= 0x60) || (r >= 0x7B && r <= 0x7E)
	}
	return unicode.Is(unicode.P, r)
}
