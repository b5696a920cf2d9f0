package tokenizer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// byteLevelJSON writes a Hugging Face tokenizer.json equivalent to a tiktoken rank file:
// the vocabulary in GPT-2's byte-to-unicode alphabet, and the merges that build each token
// from the two parts BPE on lower ranks leaves of it. llama3 picks Llama 3's layout (a Split
// pre-tokenizer with cl100k's pattern, ByteLevel without regex, ignore_merges, a BOS template);
// otherwise GPT-2's (ByteLevel with its regex).
func byteLevelJSON(t *testing.T, tk *Tokenizer, llama3 bool) []byte {
	t.Helper()
	toUni := map[byte]rune{}
	for r, c := range unicodeToByte() {
		toUni[c] = r
	}
	enc := func(s string) string {
		var b strings.Builder
		for i := range len(s) {
			b.WriteRune(toUni[s[i]])
		}
		return b.String()
	}
	ranks := tk.model.(*bpe).vocab
	byRank := make([]string, tk.vocab)
	for s, r := range ranks {
		byRank[r] = s
	}
	vocab := map[string]int{}
	var merges [][2]string
	for r, s := range byRank {
		vocab[enc(s)] = r
		if len(s) < 2 {
			continue
		}
		parts := make([]string, len(s))
		for i := range len(s) {
			parts[i] = s[i : i+1]
		}
		lower := &bpe{vocab: ranks, pairRank: func(a, b string) (int, bool) { q, ok := ranks[a+b]; return q, ok && q < r }}
		for len(parts) > 2 {
			before := len(parts)
			parts = mergeOnce(lower, parts)
			if len(parts) == before {
				break
			}
		}
		if len(parts) == 2 {
			merges = append(merges, [2]string{enc(parts[0]), enc(parts[1])})
		}
	}
	f := map[string]any{"model": map[string]any{"type": "BPE", "vocab": vocab, "merges": merges, "ignore_merges": llama3}}
	if llama3 {
		f["pre_tokenizer"] = map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]string{"Regex": patCL100K}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}}}
		f["added_tokens"] = []any{map[string]any{"id": 100257, "content": "<|begin_of_text|>"}}
		f["post_processor"] = map[string]any{"type": "Sequence", "processors": []any{
			map[string]any{"type": "ByteLevel"},
			map[string]any{"type": "TemplateProcessing", "single": []any{
				map[string]any{"SpecialToken": map[string]string{"id": "<|begin_of_text|>"}},
				map[string]any{"Sequence": map[string]string{"id": "A"}}},
				"special_tokens": map[string]any{"<|begin_of_text|>": map[string]any{"ids": []int{100257}}}}}}
	} else {
		f["pre_tokenizer"] = map[string]any{"type": "ByteLevel", "add_prefix_space": false}
	}
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// mergeOnce merges the lowest-ranked pair of parts once.
func mergeOnce(b *bpe, parts []string) []string {
	best, rank := -1, 0
	for i := 0; i+1 < len(parts); i++ {
		if r, ok := b.pairRank(parts[i], parts[i+1]); ok && (best < 0 || r < rank) {
			best, rank = i, r
		}
	}
	if best < 0 {
		return parts
	}
	parts[best] += parts[best+1]
	return append(parts[:best+1], parts[best+2:]...)
}

// TestHFByteLevelMatchesReference: tokenizer.json files in GPT-2's and Llama 3's layouts,
// built from the rank files, encode as js-tiktoken does; Llama 3's template adds its BOS.
func TestHFByteLevelMatchesReference(t *testing.T) {
	t.Parallel()
	dir := referenceFixtures(t)
	var expected map[string][]struct {
		Text string `json:"text"`
		IDs  []int  `json:"ids"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err := json.Unmarshal(data, &expected); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		enc    string
		llama3 bool
	}{{"gpt2", false}, {"cl100k_base", true}} {
		tk, err := Load(filepath.Join(dir, c.enc+".tiktoken"))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, c.enc+"-tokenizer.json")
		if err := os.WriteFile(path, byteLevelJSON(t, tk, c.llama3), 0o644); err != nil {
			t.Fatal(err)
		}
		hf, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range expected[c.enc] {
			if got := hf.Encode(e.Text); !slices.Equal(got, e.IDs) {
				t.Errorf("%s as tokenizer.json: Encode(%q) = %v, want %v", c.enc, e.Text, got, e.IDs)
			}
		}
		wantCount := len(hf.Encode("Hello")) + map[bool]int{true: 1, false: 0}[c.llama3]
		if got := hf.Count("Hello"); got != wantCount {
			t.Errorf("%s: Count = %d, want %d (BOS from the template: %v)", c.enc, got, wantCount, c.llama3)
		}
		if c.llama3 {
			if got := hf.Encode("<|begin_of_text|>Hi"); len(got) < 2 || got[0] != 100257 {
				t.Errorf("added token in text: %v, want 100257 first", got)
			}
		}
	}
}

// sentencePieceJSON is a small Llama-2-style tokenizer.json: ▁ for spaces, byte fallback, <s>.
func sentencePieceJSON() []byte {
	vocab := map[string]int{"<unk>": 0, "<s>": 1, "</s>": 2}
	for c := range 256 {
		vocab[fmtByte(byte(c))] = 3 + c
	}
	for i, p := range []string{"▁", "h", "e", "l", "o", "w", "r", "d", "▁h", "ll", "▁he", "llo", "▁hello", "▁w", "or", "▁wor", "ld", "▁world"} {
		vocab[p] = 259 + i
	}
	f := map[string]any{
		"added_tokens": []any{map[string]any{"id": 1, "content": "<s>"}, map[string]any{"id": 2, "content": "</s>"}},
		"normalizer": map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Prepend", "prepend": "▁"},
			map[string]any{"type": "Replace", "pattern": map[string]string{"String": " "}, "content": "▁"}}},
		"pre_tokenizer": nil,
		"post_processor": map[string]any{"type": "TemplateProcessing", "single": []any{
			map[string]any{"SpecialToken": map[string]string{"id": "<s>"}}, map[string]any{"Sequence": map[string]string{"id": "A"}}},
			"special_tokens": map[string]any{"<s>": map[string]any{"ids": []int{1}}}},
		"model": map[string]any{"type": "BPE", "byte_fallback": true, "unk_token": "<unk>", "vocab": vocab,
			"merges": []string{"▁ h", "l l", "▁h e", "ll o", "▁he llo", "▁ w", "o r", "▁w or", "l d", "▁wor ld"}},
	}
	data, _ := json.Marshal(f)
	return data
}

func TestHFSentencePiece(t *testing.T) {
	t.Parallel()
	tk, err := ParseHF(sentencePieceJSON())
	if err != nil {
		t.Fatal(err)
	}
	const hello, world, sp, h = 271, 276, 259, 260
	cases := []struct {
		text string
		want []int
	}{
		{"hello", []int{hello}},
		{"hello world", []int{hello, world}},
		{"hello é", []int{hello, sp, 3 + 0xC3, 3 + 0xA9}}, // é is not in the vocabulary: its two bytes
		{"hh", []int{sp + 8, h}},                          // "▁h" then "h": merges stop where none applies
		{"world<s>hello", []int{world, 1, hello}},
	}
	for _, c := range cases {
		if got := tk.Encode(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := tk.Count("hello world"); got != 3 {
		t.Errorf("Count = %d, want 3 (<s> and two tokens)", got)
	}
	if tk.VocabSize() != 277 {
		t.Errorf("VocabSize = %d, want 277", tk.VocabSize())
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const bpeModel = `"model": {"type": "BPE", "vocab": {}, "merges": []}`
	cases := []struct {
		name, data  string
		unsupported bool
		names       string // what the error must name
	}{
		{"not json", "{", false, "not a tokenizer.json"},
		{"unknown model", `{"model": {"type": "WordLevel", "vocab": {}}}`, true, `"WordLevel"`},
		{"unigram without unk_id", `{"model": {"type": "Unigram", "vocab": [["a", -1]]}}`, true, "unk_id"},
		{"unigram unk_id outside", `{"model": {"type": "Unigram", "unk_id": 1, "vocab": [["a", -1]]}}`, true, "unk_id"},
		{"unigram vocab object", `{"model": {"type": "Unigram", "unk_id": 0, "vocab": {"a": 0}}}`, false, "[piece, score]"},
		{"unigram score", `{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["a", "x"]]}}`, false, `vocab[0] "a"`},
		{"wordpiece without [UNK]", `{"model": {"type": "WordPiece", "vocab": {}}}`, false, `"[UNK]"`},
		{"wordpiece negative id", `{"model": {"type": "WordPiece", "vocab": {"[UNK]": -1}}}`, false, "negative"},
		{"precompiled without charsmap", `{"normalizer": {"type": "Sequence", "normalizers": [{"type": "Precompiled", "precompiled_charsmap": ""}]}, ` + bpeModel + `}`, false, "precompiled_charsmap"},
		{"precompiled not base64", `{"normalizer": {"type": "Precompiled", "precompiled_charsmap": "%%%"}, ` + bpeModel + `}`, false, "base64"},
		{"precompiled short trie", `{"normalizer": {"type": "Precompiled", "precompiled_charsmap": "QAAAAA=="}, ` + bpeModel + `}`, false, "trie of 64 bytes"},
		{"nmt normalizer", `{"normalizer": {"type": "Nmt"}, ` + bpeModel + `}`, true, `"Nmt"`},
		{"replace lookahead", `{"normalizer": {"type": "Replace", "pattern": {"Regex": "a(?=b)"}, "content": ""}, ` + bpeModel + `}`, true, "Replace"},
		{"whitespace pre-tokenizer", `{"pre_tokenizer": {"type": "Whitespace"}, ` + bpeModel + `}`, true, `"Whitespace"`},
		{"digits pre-tokenizer", `{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, {"type": "Digits"}]}, ` + bpeModel + `}`, true, `"Digits"`},
		{"byte-level unigram", `{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "Unigram", "unk_id": 0, "vocab": [["a", -1]]}}`, true, "ByteLevel"},
		{"bert processing", `{"post_processor": {"type": "BertProcessing", "sep": ["[SEP]"], "cls": ["[CLS]", 1]}, ` + bpeModel + `}`, false, `"sep"`},
		{"bad merges", `{"model": {"type": "BPE", "vocab": {}, "merges": ["ab"]}}`, false, "merges[0]"},
		{"lookbehind", `{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?<=a)b"}, "behavior": "Isolated"}, ` + bpeModel + `}`, true, "look-around"},
	}
	for _, c := range cases {
		_, err := ParseHF([]byte(c.data))
		if err == nil || errors.Is(err, ErrUnsupported) != c.unsupported || !strings.Contains(err.Error(), c.names) {
			t.Errorf("%s: error %v, want one naming %s (unsupported: %v)", c.name, err, c.names, c.unsupported)
		}
	}
	if _, err := ParseTiktoken([]byte("IQ== 0\n"), "cl100k_base.tiktoken"); err == nil {
		t.Error("a rank file without the 256 bytes: want an error")
	}
	if _, err := ParseTiktoken([]byte("IQ== zero\n"), "cl100k_base.tiktoken"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a bad rank line: error %v, want line 1", err)
	}
	if _, err := ParseTiktoken([]byte("IQ== 0\n"), "mine.tiktoken"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("an unknown encoding name: error %v, want ErrUnsupported", err)
	}
}

func FuzzParseHF(f *testing.F) {
	f.Add(sentencePieceJSON())
	f.Add([]byte(unigramJSON))
	f.Add([]byte(wordPieceJSON))
	f.Add([]byte(`{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tk, err := ParseHF(data)
		if err != nil {
			return
		}
		for _, s := range []string{"hello world", "ab ab", "é 🎉", "  \n x"} {
			_ = tk.Encode(s) // must not panic or hang
		}
	})
}

func FuzzEncodeTiktokenPattern(f *testing.F) {
	f.Add("Hello, world!  \n\n x")
	f.Add("naïve 🎉 1234567")
	sp, err := newSplitter(patCL100K)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if got := strings.Join(sp.split(text), ""); got != text {
			t.Fatalf("pieces of %q join to %q", text, got)
		}
	})
}
