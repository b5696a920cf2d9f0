package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// step is one normaliser, pre-tokenizer or post-processor object.
type step struct {
	Type           string            `json:"type"`
	Normalizers    []json.RawMessage `json:"normalizers"`
	Pretokenizers  []json.RawMessage `json:"pretokenizers"`
	Processors     []json.RawMessage `json:"processors"`
	Prepend        string            `json:"prepend"`
	Pattern        map[string]string `json:"pattern"`
	Content        string            `json:"content"`
	Behavior       string            `json:"behavior"`
	Invert         bool              `json:"invert"`
	UseRegex       *bool             `json:"use_regex"`
	AddPrefixSpace bool              `json:"add_prefix_space"`
	Replacement    string            `json:"replacement"`
	PrependScheme  string            `json:"prepend_scheme"`
	Split          *bool             `json:"split"`
	Single         []map[string]struct {
		ID string `json:"id"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
	// BertNormalizer (strip_accents null: as lowercase)
	CleanText          *bool `json:"clean_text"`
	HandleChineseChars *bool `json:"handle_chinese_chars"`
	StripAccents       *bool `json:"strip_accents"`
	Lowercase          *bool `json:"lowercase"`
	// Precompiled: base64 of SentencePiece's compiled rules
	PrecompiledCharsmap *string `json:"precompiled_charsmap"`
	// Strip
	StripLeft  bool `json:"strip_left"`
	StripRight bool `json:"strip_right"`
	// BertProcessing, RobertaProcessing: [token, id]
	Sep []json.RawMessage `json:"sep"`
	Cls []json.RawMessage `json:"cls"`
}

func decodeStep(raw json.RawMessage) (*step, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s step
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// sequence expands a Sequence step into its members (a step of another type is alone).
func sequence(s *step, members []json.RawMessage) ([]*step, error) {
	if s.Type != "Sequence" {
		return []*step{s}, nil
	}
	var out []*step
	for _, r := range members {
		sub, err := decodeStep(r)
		if err != nil {
			return nil, err
		}
		if sub != nil {
			out = append(out, sub)
		}
	}
	return out, nil
}

// preTokenizer reads the pre-tokenizer into steps; byteLevel is true when a ByteLevel step is
// present (the BPE model then works on bytes).
func (t *Tokenizer) preTokenizer(raw json.RawMessage) (byteLevel bool, err error) {
	s, err := decodeStep(raw)
	if err != nil || s == nil {
		return false, err
	}
	steps, err := sequence(s, s.Pretokenizers)
	if err != nil {
		return false, err
	}
	for _, s := range steps {
		var st preStep
		switch s.Type {
		case "Split":
			if s.Pattern["Regex"] == "" || s.Behavior != "Isolated" || s.Invert {
				return false, fmt.Errorf("%w: pre-tokenizer Split other than an isolated regex", ErrUnsupported)
			}
			sp, err := newSplitter(s.Pattern["Regex"])
			if err != nil {
				return false, err
			}
			st = sp.step
		case "ByteLevel":
			byteLevel = true
			if st, err = byteLevelStep(s); err != nil {
				return false, err
			}
		case "Metaspace":
			st = metaspace(s)
		case "WhitespaceSplit":
			st = whitespaceSplit
		case "BertPreTokenizer":
			st = bertPreTokenize
		default:
			return false, fmt.Errorf("%w: pre-tokenizer %q", ErrUnsupported, s.Type)
		}
		if st != nil {
			t.pre = append(t.pre, st)
		}
	}
	return byteLevel, nil
}

// byteLevelStep is ByteLevel's splitting (GPT-2's pattern) when use_regex is on; nil otherwise.
func byteLevelStep(s *step) (preStep, error) {
	if s.AddPrefixSpace {
		return nil, fmt.Errorf("%w: ByteLevel with add_prefix_space", ErrUnsupported)
	}
	if s.UseRegex != nil && !*s.UseRegex {
		return nil, nil
	}
	sp, err := newSplitter(patGPT2)
	if err != nil {
		return nil, err
	}
	return sp.step, nil
}

// metaspace is SentencePiece's space handling as a pre-tokenizer: spaces become the
// replacement (▁), one is prepended (to every piece with prepend_scheme "always", to the piece
// that begins the input with "first"), and with split each piece is cut before every ▁.
func metaspace(s *step) preStep {
	rep := s.Replacement
	if rep == "" {
		rep = "▁"
	}
	scheme := s.PrependScheme
	if scheme == "" && s.AddPrefixSpace {
		scheme = "always" // files older than prepend_scheme
	}
	split := s.Split == nil || *s.Split
	return func(in []piece) []piece {
		var out []piece
		for _, p := range in {
			text := strings.ReplaceAll(p.text, " ", rep)
			if (scheme == "always" || (scheme == "first" && p.start)) && !strings.HasPrefix(text, rep) {
				text = rep + text
			}
			if !split {
				out = append(out, piece{text: text, start: p.start})
				continue
			}
			for i, part := range splitBefore(text, rep) {
				out = append(out, piece{text: part, start: p.start && i == 0})
			}
		}
		return out
	}
}

// whitespaceSplit cuts at Unicode white space, which it drops.
func whitespaceSplit(in []piece) []piece {
	var out []piece
	for _, p := range in {
		r, _ := utf8.DecodeRuneInString(p.text)
		lead := p.start && !isWhiteSpace(r) // the first field begins the input only if no space precedes it
		for i, f := range strings.FieldsFunc(p.text, isWhiteSpace) {
			out = append(out, piece{text: f, start: lead && i == 0})
		}
	}
	return out
}

// bertPreTokenize is BERT's basic tokenizer: cut at white space (dropped), then every
// punctuation character (ASCII punctuation or Unicode P*) is a piece of its own.
func bertPreTokenize(in []piece) []piece {
	var out []piece
	for _, p := range in {
		start := -1
		flush := func(end int) {
			if start >= 0 {
				out = append(out, piece{text: p.text[start:end]})
				start = -1
			}
		}
		for i, r := range p.text {
			switch {
			case isWhiteSpace(r):
				flush(i)
			case isBertPunct(r):
				flush(i)
				out = append(out, piece{text: string(r)})
			case start < 0:
				start = i
			}
		}
		flush(len(p.text))
	}
	return out
}

// postProcessor reads the special tokens added around one sequence (TemplateProcessing's
// "single"); ByteLevel adds none.
func (t *Tokenizer) postProcessor(raw json.RawMessage) error {
	s, err := decodeStep(raw)
	if err != nil || s == nil {
		return err
	}
	switch s.Type {
	case "ByteLevel":
		return nil
	case "Sequence":
		for _, r := range s.Processors {
			if err := t.postProcessor(r); err != nil {
				return err
			}
		}
		return nil
	case "TemplateProcessing":
		seen := false
		for _, piece := range s.Single {
			if _, ok := piece["Sequence"]; ok {
				seen = true
				continue
			}
			sp, ok := piece["SpecialToken"]
			if !ok {
				return fmt.Errorf("%w: template piece %v", ErrUnsupported, piece)
			}
			ids := s.SpecialTokens[sp.ID].IDs
			if seen {
				t.eos = append(t.eos, ids...)
			} else {
				t.bos = append(t.bos, ids...)
			}
		}
		return nil
	case "BertProcessing", "RobertaProcessing":
		cls, err := processingID(s.Type, "cls", s.Cls)
		if err != nil {
			return err
		}
		sep, err := processingID(s.Type, "sep", s.Sep)
		t.bos, t.eos = append(t.bos, cls), append(t.eos, sep)
		return err
	}
	return fmt.Errorf("%w: post-processor %q", ErrUnsupported, s.Type)
}

// processingID reads BertProcessing's "cls" or "sep": a [token, id] pair.
func processingID(typ, key string, pair []json.RawMessage) (int, error) {
	var id int
	if len(pair) != 2 || json.Unmarshal(pair[1], &id) != nil {
		return 0, fmt.Errorf("post_processor %s: %q wants a [token, id] pair", typ, key)
	}
	return id, nil
}
