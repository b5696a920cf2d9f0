package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

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

// preTokenizer reads the pre-tokenizer; byteLevel is true when a ByteLevel step is present.
func (t *Tokenizer) preTokenizer(raw json.RawMessage) (byteLevel bool, err error) {
	s, err := decodeStep(raw)
	if err != nil || s == nil {
		return false, err
	}
	steps := []*step{s}
	if s.Type == "Sequence" {
		steps = nil
		for _, r := range s.Pretokenizers {
			sub, err := decodeStep(r)
			if err != nil {
				return false, err
			}
			steps = append(steps, sub)
		}
	}
	for _, s := range steps {
		switch s.Type {
		case "Split":
			if t.pre != nil || s.Pattern["Regex"] == "" || s.Behavior != "Isolated" || s.Invert {
				return false, fmt.Errorf("%w: pre-tokenizer Split other than one isolated regex", ErrUnsupported)
			}
			if t.pre, err = newSplitter(s.Pattern["Regex"]); err != nil {
				return false, err
			}
		case "ByteLevel":
			byteLevel = true
			if s.AddPrefixSpace {
				return false, fmt.Errorf("%w: ByteLevel with add_prefix_space", ErrUnsupported)
			}
			if s.UseRegex == nil || *s.UseRegex {
				if t.pre != nil {
					return false, fmt.Errorf("%w: two splitting pre-tokenizers", ErrUnsupported)
				}
				if t.pre, err = newSplitter(patGPT2); err != nil {
					return false, err
				}
			}
		case "Metaspace":
			t.metaspace(s)
		default:
			return false, fmt.Errorf("%w: pre-tokenizer %q", ErrUnsupported, s.Type)
		}
	}
	return byteLevel, nil
}

// metaspace is SentencePiece's space handling as a pre-tokenizer: spaces become the
// replacement (▁), one is prepended, and with split the text is cut before each.
func (t *Tokenizer) metaspace(s *step) {
	rep := s.Replacement
	if rep == "" {
		rep = "▁"
	}
	prepend := s.PrependScheme == "always" || s.PrependScheme == "first" || (s.PrependScheme == "" && s.AddPrefixSpace)
	t.norm = func(text string) string {
		text = strings.ReplaceAll(text, " ", rep)
		if prepend && !strings.HasPrefix(text, rep) {
			text = rep + text
		}
		return text
	}
	if s.Split == nil || *s.Split {
		t.pre = &splitter{sep: rep}
	}
}

// normalizer reads the normaliser: Prepend and Replace of a string (Llama 2, Mistral),
// Sequence of those, and NFC (taken as identity: prompts are NFC already).
func (t *Tokenizer) normalizer(raw json.RawMessage) error {
	s, err := decodeStep(raw)
	if err != nil || s == nil {
		return err
	}
	steps := []*step{s}
	if s.Type == "Sequence" {
		steps = nil
		for _, r := range s.Normalizers {
			sub, err := decodeStep(r)
			if err != nil {
				return err
			}
			steps = append(steps, sub)
		}
	}
	var fns []func(string) string
	for _, s := range steps {
		switch {
		case s.Type == "Prepend":
			p := s.Prepend
			fns = append(fns, func(x string) string { return p + x })
		case s.Type == "Replace" && s.Pattern["String"] != "":
			from, to := s.Pattern["String"], s.Content
			fns = append(fns, func(x string) string { return strings.ReplaceAll(x, from, to) })
		case s.Type == "NFC":
		default:
			return fmt.Errorf("%w: normalizer %q", ErrUnsupported, s.Type)
		}
	}
	prev := t.norm
	t.norm = func(x string) string {
		if prev != nil {
			x = prev(x)
		}
		for _, f := range fns {
			x = f(x)
		}
		return x
	}
	return nil
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
	}
	return fmt.Errorf("%w: post-processor %q", ErrUnsupported, s.Type)
}
