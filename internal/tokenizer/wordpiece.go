package tokenizer

import (
	"fmt"
	"unicode/utf8"
)

// wordPiece is BERT's model: each word is cut greedily into the longest entries from its
// start, the ones after the first spelt with the continuation prefix ("##"). A word with a
// part no entry covers, or longer than the character limit, is one unknown token.
type wordPiece struct {
	vocab    map[string]int
	prefix   string
	unk      int
	maxChars int
}

func wordPieceModel(m *hfModelJSON) (*wordPiece, int, error) {
	size, err := vocabObject(m)
	if err != nil {
		return nil, 0, err
	}
	w := &wordPiece{vocab: m.vocab, prefix: "##", maxChars: 100}
	if m.ContinuingSubwordPrefix != nil {
		w.prefix = *m.ContinuingSubwordPrefix
	}
	if m.MaxInputCharsPerWord != nil {
		w.maxChars = *m.MaxInputCharsPerWord
	}
	unk := "[UNK]"
	if m.UnkToken != nil {
		unk = *m.UnkToken
	}
	id, ok := m.vocab[unk]
	if !ok {
		return nil, 0, fmt.Errorf("model.unk_token %q is not in model.vocab: a WordPiece model needs it for words it cannot cut", unk)
	}
	w.unk = id
	return w, size, nil
}

func (w *wordPiece) encode(word string, out []int) []int {
	if utf8.RuneCountInString(word) > w.maxChars {
		return append(out, w.unk)
	}
	n := len(out)
	for start := 0; start < len(word); {
		end, id := w.longest(word, start)
		if end == start {
			return append(out[:n], w.unk)
		}
		out, start = append(out, id), end
	}
	return out
}

// longest finds the longest entry at start (with the prefix after the first): its end and id;
// end == start when there is none.
func (w *wordPiece) longest(word string, start int) (end, id int) {
	for end = len(word); end > start; {
		sub := word[start:end]
		if start > 0 {
			sub = w.prefix + sub
		}
		if id, ok := w.vocab[sub]; ok {
			return end, id
		}
		_, size := utf8.DecodeLastRuneInString(word[start:end])
		end -= size
	}
	return start, 0
}
