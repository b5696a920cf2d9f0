package tokenizer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// unigramJSON is tokenizers' own doc example (model.rs): "abcdacdxx" → abcd a cd xx, with
// "a" scoring high enough that the unknown penalty decides "aé", and <0x..> pieces for fallback.
const unigramJSON = `{"model": {"type": "Unigram", "unk_id": 0, "byte_fallback": BF, "vocab": [
	["<unk>", 0], ["a", 0], ["b", 0], ["c", 0], ["d", 0], ["cd", 1], ["ab", 2], ["abc", 5], ["abcd", 10],
	["<0xC3>", -1], ["<0xA9>", -1], ["z", 5], ["zé", -12]]}}`

func TestUnigram(t *testing.T) {
	t.Parallel()
	const unk, a, cd, abcd, c3, a9, z, zAcute = 0, 1, 5, 8, 9, 10, 11, 12
	cases := []struct {
		text         string
		byteFallback bool
		want         []int
	}{
		{"abcdacdxx", false, []int{abcd, a, cd, unk}}, // the two x fuse into one <unk>
		{"abcdacdxx", true, []int{abcd, a, cd, unk}},  // x has no <0x78>: the fused run stays <unk>
		{"é", true, []int{c3, a9}},                    // é's bytes have their pieces
		{"é", false, []int{unk}},
		{"aéé", true, []int{a, c3, a9, c3, a9}}, // one fused run, then its four bytes
		// z then an unknown é scores 5 + (−12 − 10) = −17 < −12: the piece "zé" wins. With a
		// penalty under 5 the unknown path would.
		{"zé", false, []int{zAcute}},
		{"zz", false, []int{z, z}},
		{"", false, nil},
	}
	for _, c := range cases {
		tk, err := ParseHF([]byte(strings.Replace(unigramJSON, "BF", map[bool]string{true: "true", false: "false"}[c.byteFallback], 1)))
		if err != nil {
			t.Fatal(err)
		}
		if got := tk.Encode(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q), byte fallback %v = %v, want %v", c.text, c.byteFallback, got, c.want)
		}
		if tk.VocabSize() != 13 {
			t.Errorf("VocabSize = %d, want 13", tk.VocabSize())
		}
	}
}

// wordPieceJSON is BERT-like: lowercase, accents stripped, punctuation split, [CLS] … [SEP],
// words of at most 10 characters.
const wordPieceJSON = `{
	"added_tokens": [{"id": 1, "content": "[CLS]"}, {"id": 2, "content": "[SEP]"}],
	"normalizer": {"type": "BertNormalizer", "lowercase": true, "strip_accents": null, "clean_text": true, "handle_chinese_chars": true},
	"pre_tokenizer": {"type": "BertPreTokenizer"},
	"post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
	"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 10,
		"vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "un": 3, "##aff": 4, "##able": 5, "a": 6, "!": 7, "cafe": 8, "中": 9, "##s": 10}}}`

func TestWordPiece(t *testing.T) {
	t.Parallel()
	tk, err := ParseHF([]byte(wordPieceJSON))
	if err != nil {
		t.Fatal(err)
	}
	const unk, cls, un, aff, able, a, bang, cafe, zhong, s = 0, 1, 3, 4, 5, 6, 7, 8, 9, 10
	cases := []struct {
		text string
		want []int
	}{
		{"unaffable", []int{un, aff, able}},
		{"UnAffable!", []int{un, aff, able, bang}},  // lowercased, "!" split off
		{"Café  a\tcafes", []int{cafe, a, cafe, s}}, // accent stripped, white space dropped
		{"unaffablex", []int{unk}},                  // "x" has no piece: the whole word is [UNK]
		{"unaffables", []int{un, aff, able, s}},     // 10 characters: allowed
		{"unaffabless", []int{unk}},                 // 11 characters: over the limit
		{"a中a", []int{a, zhong, a}},                 // CJK ideographs stand alone
		{"[CLS]a\x00\ufffd", []int{cls, a}},         // added token, NUL and U+FFFD dropped
	}
	for _, c := range cases {
		if got := tk.Encode(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := tk.Count("a"); got != 3 {
		t.Errorf("Count(a) = %d, want 3 ([CLS] a [SEP])", got)
	}
}

// TestMetaspaceFirst: prepend_scheme "first" adds ▁ only to the text that begins the input,
// not after an added token; "always" adds it to every piece; split cuts before each ▁.
func TestMetaspaceFirst(t *testing.T) {
	t.Parallel()
	const doc = `{"added_tokens": [{"id": 1, "content": "<s>"}],
		"pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "SCHEME", "split": SPLIT},
		"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0], ["<s>", 0], ["▁a", -1], ["a", -2], ["▁", -3], ["▁a▁a", 10]]}}`
	const unk, s, spA, a, sp, spAspA = 0, 1, 2, 3, 4, 5
	cases := []struct {
		scheme, split, text string
		want                []int
	}{
		{"first", "false", "a", []int{spA}},
		{"first", "false", "<s>a", []int{s, a}},
		{"always", "false", "<s>a", []int{s, spA}},
		{"never", "false", "a", []int{a}},
		{"first", "false", "a a", []int{spAspA}},
		{"first", "true", "a a", []int{spA, spA}}, // split: "▁a▁a" cannot be one piece
		{"first", "true", " a", []int{spA}},       // a leading space is the ▁
	}
	for _, c := range cases {
		tk, err := ParseHF([]byte(strings.NewReplacer("SCHEME", c.scheme, "SPLIT", c.split).Replace(doc)))
		if err != nil {
			t.Fatal(err)
		}
		if got := tk.Encode(c.text); !slices.Equal(got, c.want) {
			t.Errorf("%s, split %s: Encode(%q) = %v, want %v", c.scheme, c.split, c.text, got, c.want)
		}
	}
}

// TestNormalizers: each normaliser on its own, as tokenizers applies it.
func TestNormalizers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		step, in, want string
	}{
		{`{"type": "NFKC"}`, "ｈｅｌｌｏ ﬁ ①", "hello fi 1"},
		{`{"type": "NFC"}`, "e\u0301", "é"},
		{`{"type": "NFD"}`, "é", "e\u0301"},
		{`{"type": "NFKD"}`, "ﬁé", "fie\u0301"},
		{`{"type": "Lowercase"}`, "ÀB İ ΟΔΟΣ", "àb i\u0307 οδοσ"}, // per character: no final ς
		{`{"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"}]}`, "Crème ñ", "Creme n"},
		{`{"type": "Strip", "strip_left": true, "strip_right": false}`, " \t a ", "a "},
		{`{"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}`, "a  b     c d", "a b c d"},
		{`{"type": "Replace", "pattern": {"String": "$"}, "content": "$1"}`, "a$", "a$1"},
		{`{"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": "$1"}`, "a \u00a0b", "a$1b"}, // content is literal
		{`{"type": "BertNormalizer", "lowercase": false}`, "A\u00a0中\u200bé", "A  中 é"},
		{`{"type": "BertNormalizer", "lowercase": true}`, "ÉTÉ", "ete"},
		{`{"type": "BertNormalizer", "lowercase": false, "strip_accents": true, "handle_chinese_chars": false, "clean_text": false}`, "É中\u0007", "E中\u0007"},
	}
	for _, c := range cases {
		f, err := normalizer([]byte(c.step))
		if err != nil {
			t.Fatalf("%s: %v", c.step, err)
		}
		if got := f(c.in); got != c.want {
			t.Errorf("%s(%q) = %q, want %q", c.step, c.in, got, c.want)
		}
	}
}

// FuzzEncodeHFModels: any text encodes without a panic, into ids of the vocabulary, and the
// same text twice gives the same ids.
func FuzzEncodeHFModels(f *testing.F) {
	f.Add("abcdacdxx zé")
	f.Add("UnAffable! Café 中\x00")
	f.Add(string([]byte{0xff, 'a', 0xc3}))
	var tks []*Tokenizer
	for _, doc := range []string{strings.Replace(unigramJSON, "BF", "true", 1), wordPieceJSON} {
		tk, err := ParseHF([]byte(doc))
		if err != nil {
			f.Fatal(err)
		}
		tks = append(tks, tk)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for i, tk := range tks {
			ids := tk.Encode(text)
			for _, id := range ids {
				if id < 0 || id >= tk.VocabSize() {
					t.Fatalf("Encode(%q) = %v: id %d outside the vocabulary", text, ids, id)
				}
			}
			if again := tk.Encode(text); !slices.Equal(again, ids) {
				t.Fatalf("Encode(%q) twice: %v then %v", text, ids, again)
			}
			if i == 0 && text != "" && len(ids) == 0 { // Unigram covers every byte, known or not
				t.Fatalf("Encode(%q): no ids", text)
			}
		}
	})
}

// TestSentencePieceUnigramMatchesReference: Unigram models trained by SentencePiece (with
// a compiled normalisation rule table, and once with byte fallback), converted to tokenizer.json
// as Hugging Face's converter does, encode as SentencePiece does (testdata/spm-unigram.json,
// made by scripts/tokenizer-fixtures/gen-spm.py): the Precompiled character map (full-width
// letters, ligatures, e + combining acute, ideographic and no-break spaces), Strip, Replace,
// Metaspace, Viterbi, fused unknowns and byte fallback.
func TestSentencePieceUnigramMatchesReference(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "spm-unigram.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fixture struct {
		Cases []struct {
			Name      string          `json:"name"`
			Tokenizer json.RawMessage `json:"tokenizer"`
			Expected  []struct {
				Text string `json:"text"`
				IDs  []int  `json:"ids"`
			} `json:"expected"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &fixture); err != nil {
		t.Fatal(err)
	}
	if len(fixture.Cases) != 2 {
		t.Fatalf("%d cases, want 2", len(fixture.Cases))
	}
	for _, c := range fixture.Cases {
		tk, err := ParseHF(c.Tokenizer)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		for _, e := range c.Expected {
			if got := tk.Encode(e.Text); !slices.Equal(got, e.IDs) {
				t.Errorf("%s: Encode(%q) =\n  %v, want\n  %v", c.Name, e.Text, got, e.IDs)
			}
		}
	}
}

// FuzzPrecompiled: any charsmap is parsed or refused, and a parsed one normalises any text
// without a panic.
func FuzzPrecompiled(f *testing.F) {
	raw, err := base64.StdEncoding.DecodeString(committedCharsmap(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw, "ＦＵＬＬ ﬁne cafe\u0301 ｶﾞ")
	f.Add(raw[:40], "abc")
	f.Fuzz(func(t *testing.T, charsmap []byte, text string) {
		p, err := parsePrecompiled(base64.StdEncoding.EncodeToString(charsmap))
		if err != nil {
			return
		}
		_ = p.normalize(text)
	})
}

// TestPrecompiledGraphemes: tokenizers' grapheme rule on the committed rule table: a cluster
// under 6 bytes takes the replacement of the shortest key that begins it, whole (the accent
// after Ａ is dropped, as tokenizers does and SentencePiece does not); a longer cluster is
// replaced character by character.
func TestPrecompiledGraphemes(t *testing.T) {
	t.Parallel()
	p, err := parsePrecompiled(committedCharsmap(t))
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"ＡＢｃ":             "ABc",
		"ﬁ①":              "fi1",
		"e\u0301":         "é",             // a two-character key
		"Ａ\u0301b":        "Ab",            // 5-byte cluster: Ａ's replacement, whole
		"Ａ\u0301\u0301":   "A\u0301\u0301", // 7 bytes: character by character
		"x\u3000y\u00a0z": "x y z",
		"plain":           "plain",
		"\xff\xfe":        "\xff\xfe", // bytes that are no UTF-8 pass through
		"“q”":             "\"q\"",
	} {
		if got := p.normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// committedCharsmap is the precompiled_charsmap of testdata/spm-unigram.json's first model.
func committedCharsmap(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "spm-unigram.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var fixture struct {
		Cases []struct {
			Tokenizer struct {
				Normalizer struct {
					Normalizers []struct {
						Charsmap string `json:"precompiled_charsmap"`
					} `json:"normalizers"`
				} `json:"normalizer"`
			} `json:"tokenizer"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &fixture); err != nil || len(fixture.Cases) == 0 || len(fixture.Cases[0].Tokenizer.Normalizer.Normalizers) == 0 {
		tb.Fatalf("testdata/spm-unigram.json: %v", err)
	}
	return fixture.Cases[0].Tokenizer.Normalizer.Normalizers[0].Charsmap
}

// TestAddedTokenOptions: lstrip and rstrip swallow the white space beside an added token; a
// single_word token inside a word is ordinary text; a normalized token matches the normalised
// text (lowercased here), a raw one only the text as written.
func TestAddedTokenOptions(t *testing.T) {
	t.Parallel()
	const doc = `{"added_tokens": [
		{"id": 7, "content": "<m>", "lstrip": LS, "rstrip": RS},
		{"id": 5, "content": "ab", "single_word": true},
		{"id": 6, "content": "<N>", "normalized": true}],
		"normalizer": {"type": "Lowercase"},
		"pre_tokenizer": {"type": "Metaspace", "prepend_scheme": "never", "split": false},
		"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0], ["▁", -1], ["a", -1], ["b", -1], ["c", -1]]}}`
	const sp, a, b, c, ab, n, m = 1, 2, 3, 4, 5, 6, 7
	cases := []struct {
		strip, text string
		want        []int
	}{
		{"none", "a <m> b", []int{a, sp, m, sp, b}},
		{"left", "a  <m> b", []int{a, m, sp, b}},
		{"right", "a <m>  b", []int{a, sp, m, b}},
		{"both", "a\t<m>\n b", []int{a, m, b}},
		{"both", "<m>  <m>", []int{m, m}},
		{"none", "ab cab abc ab", []int{ab, sp, c, a, b, sp, a, b, c, sp, ab}}, // single_word: only alone
		{"none", "a<N>b <n>", []int{a, n, b, sp, n}},                           // normalised: <N> and <n>
	}
	for _, k := range cases {
		ls, rs := strings.Contains("left both", k.strip), strings.Contains("right both", k.strip)
		tk, err := ParseHF([]byte(strings.NewReplacer("LS", fmt.Sprint(ls), "RS", fmt.Sprint(rs)).Replace(doc)))
		if err != nil {
			t.Fatal(err)
		}
		if got := tk.Encode(k.text); !slices.Equal(got, k.want) {
			t.Errorf("strip %s: Encode(%q) = %v, want %v", k.strip, k.text, got, k.want)
		}
	}
}
