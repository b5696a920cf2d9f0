package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// hfFile is the part of a Hugging Face tokenizer.json that encoding needs.
type hfFile struct {
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		SingleWord bool   `json:"single_word"`
		Normalized bool   `json:"normalized"` // absent: matched in the raw text
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Model         hfModelJSON     `json:"model"`
}

// hfModelJSON holds the fields of the three models; Vocab's shape depends on the type (an
// object of token → id for BPE and WordPiece, [piece, score] pairs for Unigram).
type hfModelJSON struct {
	Type         string          `json:"type"`
	Vocab        json.RawMessage `json:"vocab"`
	vocab        map[string]int
	Merges       json.RawMessage `json:"merges"`
	ByteFallback bool            `json:"byte_fallback"`
	IgnoreMerges bool            `json:"ignore_merges"`
	UnkToken     *string         `json:"unk_token"`
	// Unigram
	UnkID *int `json:"unk_id"`
	// WordPiece
	ContinuingSubwordPrefix *string `json:"continuing_subword_prefix"`
	MaxInputCharsPerWord    *int    `json:"max_input_chars_per_word"`
}

// ParseHF reads a Hugging Face tokenizer.json with a BPE model (byte-level as GPT-2 and Llama 3,
// or SentencePiece-style as Llama 2 and Mistral), a Unigram model (T5-style SentencePiece) or a
// WordPiece model (BERT). Steps not listed in docs/datasets.md are ErrUnsupported, named.
func ParseHF(data []byte) (*Tokenizer, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	t := &Tokenizer{}
	byteLevel, err := t.preTokenizer(f.PreTokenizer)
	if err != nil {
		return nil, err
	}
	if t.norm, err = normalizer(f.Normalizer); err != nil {
		return nil, err
	}
	if err := t.postProcessor(f.PostProcessor); err != nil {
		return nil, err
	}
	if byteLevel && f.Model.Type != "BPE" {
		return nil, fmt.Errorf("%w: a ByteLevel pre-tokenizer with a %s model", ErrUnsupported, f.Model.Type)
	}
	if err := t.hfModel(&f.Model, byteLevel); err != nil {
		return nil, err
	}
	for i, a := range f.AddedTokens {
		if a.Content == "" || a.ID < 0 {
			return nil, fmt.Errorf("added_tokens[%d]: want a non-empty content and an id ≥ 0", i)
		}
		sp := special{text: a.Content, id: a.ID, lstrip: a.LStrip, rstrip: a.RStrip, singleWord: a.SingleWord}
		t.vocab = max(t.vocab, a.ID+1)
		if !a.Normalized || t.norm == nil {
			t.raw = append(t.raw, sp)
		} else if sp.text = t.norm(sp.text); sp.text != "" {
			t.normed = append(t.normed, sp)
		}
	}
	return t, nil
}

// hfModel builds the model of the file and sets the vocabulary size from it.
func (t *Tokenizer) hfModel(m *hfModelJSON, byteLevel bool) error {
	var err error
	switch m.Type {
	case "BPE":
		t.model, t.vocab, err = bpeModel(m, byteLevel)
	case "Unigram":
		t.model, t.vocab, err = unigramModel(m)
	case "WordPiece":
		t.model, t.vocab, err = wordPieceModel(m)
	default:
		err = fmt.Errorf("%w: model %q (BPE, Unigram and WordPiece are implemented)", ErrUnsupported, m.Type)
	}
	return err
}

// vocabObject reads a vocabulary written as an object of token → id; size is the largest id + 1.
func vocabObject(m *hfModelJSON) (size int, err error) {
	if err := json.Unmarshal(m.Vocab, &m.vocab); err != nil {
		return 0, fmt.Errorf("model.vocab: want an object of token → id: %w", err)
	}
	for tok, id := range m.vocab {
		if id < 0 {
			return 0, fmt.Errorf("model.vocab: token %q has the negative id %d", tok, id)
		}
		size = max(size, id+1)
	}
	return size, nil
}

// bpeModel builds the BPE of the model; a byte-level vocabulary is turned back into raw bytes.
func bpeModel(m *hfModelJSON, byteLevel bool) (*bpe, int, error) {
	size, err := vocabObject(m)
	if err != nil {
		return nil, 0, err
	}
	merges, err := parseMerges(m.Merges)
	if err != nil {
		return nil, 0, err
	}
	dec := func(s string) string { return s }
	if byteLevel {
		table := unicodeToByte()
		dec = func(s string) string {
			var b strings.Builder
			for _, r := range s {
				if c, ok := table[r]; ok {
					b.WriteByte(c)
				} else {
					b.WriteRune(r)
				}
			}
			return b.String()
		}
	}
	vocab := make(map[string]int, len(m.vocab))
	for k, id := range m.vocab {
		vocab[dec(k)] = id
	}
	ranks := make(map[[2]string]int, len(merges))
	for i, m := range merges {
		key := [2]string{dec(m[0]), dec(m[1])}
		if _, dup := ranks[key]; !dup {
			ranks[key] = i
		}
	}
	b := &bpe{vocab: vocab, ignoreWhole: m.IgnoreMerges, unk: -1, byteSyms: byteLevel,
		pairRank: func(a, c string) (int, bool) { r, ok := ranks[[2]string{a, c}]; return r, ok }}
	if m.UnkToken != nil {
		if id, ok := vocab[*m.UnkToken]; ok {
			b.unk = id
		}
	}
	if m.ByteFallback {
		b.byteFallback = map[byte]int{}
		for c := range 256 {
			if id, ok := vocab[fmtByte(byte(c))]; ok {
				b.byteFallback[byte(c)] = id
			}
		}
	}
	return b, size, nil
}

// parseMerges reads merges as "a b" strings (older files) or ["a", "b"] pairs (newer).
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, fmt.Errorf("model.merges: neither \"a b\" strings nor [a, b] pairs: %w", err)
	}
	pairs = make([][2]string, len(lines))
	for i, l := range lines {
		a, b, ok := strings.Cut(l, " ")
		if !ok {
			return nil, fmt.Errorf("model.merges[%d] %q: want two symbols separated by a space", i, l)
		}
		pairs[i] = [2]string{a, b}
	}
	return pairs, nil
}

// unicodeToByte inverts GPT-2's bytes_to_unicode: printable bytes stand for themselves, the
// others for 256, 257, … in byte order.
func unicodeToByte() map[rune]byte {
	out := make(map[rune]byte, 256)
	n := 0
	for c := range 256 {
		if (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE && c <= 0xFF) {
			out[rune(c)] = byte(c)
		} else {
			out[rune(256+n)] = byte(c)
			n++
		}
	}
	return out
}
