package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// hfFile is the part of a Hugging Face tokenizer.json that encoding needs.
type hfFile struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Model         struct {
		Type         string          `json:"type"`
		Vocab        json.RawMessage `json:"vocab"`
		vocab        map[string]int
		Merges       json.RawMessage `json:"merges"`
		ByteFallback bool            `json:"byte_fallback"`
		IgnoreMerges bool            `json:"ignore_merges"`
		UnkToken     *string         `json:"unk_token"`
	} `json:"model"`
}

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
}

// ParseHF reads a Hugging Face tokenizer.json with a BPE model: byte-level (GPT-2, Llama 3)
// or SentencePiece-style (Llama 2, Mistral: "▁" for spaces, byte fallback). Unigram and
// WordPiece models, and steps not listed in docs/datasets.md, are ErrUnsupported.
func ParseHF(data []byte) (*Tokenizer, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	if f.Model.Type != "BPE" {
		return nil, fmt.Errorf("%w: model %q (only BPE is implemented)", ErrUnsupported, f.Model.Type)
	}
	if err := json.Unmarshal(f.Model.Vocab, &f.Model.vocab); err != nil {
		return nil, fmt.Errorf("model.vocab: want an object of token → id: %w", err)
	}
	t := &Tokenizer{}
	byteLevel, err := t.preTokenizer(f.PreTokenizer)
	if err != nil {
		return nil, err
	}
	if err := t.normalizer(f.Normalizer); err != nil {
		return nil, err
	}
	if err := t.postProcessor(f.PostProcessor); err != nil {
		return nil, err
	}
	t.byteSyms = byteLevel
	if t.bpe, err = hfModel(&f, byteLevel); err != nil {
		return nil, err
	}
	for _, a := range f.AddedTokens {
		t.specials = append(t.specials, special{text: a.Content, id: a.ID})
		t.vocab = max(t.vocab, a.ID+1)
	}
	for _, id := range f.Model.vocab {
		t.vocab = max(t.vocab, id+1)
	}
	return t, nil
}

// hfModel builds the BPE of the model; a byte-level vocabulary is turned back into raw bytes.
func hfModel(f *hfFile, byteLevel bool) (*bpe, error) {
	merges, err := parseMerges(f.Model.Merges)
	if err != nil {
		return nil, err
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
	vocab := make(map[string]int, len(f.Model.vocab))
	for k, id := range f.Model.vocab {
		vocab[dec(k)] = id
	}
	ranks := make(map[[2]string]int, len(merges))
	for i, m := range merges {
		key := [2]string{dec(m[0]), dec(m[1])}
		if _, dup := ranks[key]; !dup {
			ranks[key] = i
		}
	}
	b := &bpe{vocab: vocab, ignoreWhole: f.Model.IgnoreMerges, unk: -1,
		pairRank: func(a, c string) (int, bool) { r, ok := ranks[[2]string{a, c}]; return r, ok }}
	if f.Model.UnkToken != nil {
		if id, ok := vocab[*f.Model.UnkToken]; ok {
			b.unk = id
		}
	}
	if f.Model.ByteFallback {
		b.byteFallback = map[byte]int{}
		for c := range 256 {
			if id, ok := vocab[fmtByte(byte(c))]; ok {
				b.byteFallback[byte(c)] = id
			}
		}
	}
	return b, nil
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
