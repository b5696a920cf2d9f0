package workload_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmscale/llmscale/internal/tokens"
	"github.com/llmscale/llmscale/internal/workload"
)

func TestParseText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "empty", in: "", want: nil},
		{name: "only comments", in: "# a\n# b\n\n", want: nil},
		{name: "one per line", in: "first\n\n  second  \nthird", want: []string{"first", "second", "third"}},
		{name: "header comments", in: "# prompts\n#\n\nWhat is Go?\nWhy?\n", want: []string{"What is Go?", "Why?"}},
		{name: "indented header comment", in: "  # note\nWhat?\n", want: []string{"What?"}},
		{name: "hash after the first prompt is a prompt", in: "# c\nfirst\n# second\n",
			want: []string{"first", "# second"}},
		{name: "separator", in: "# c\n\nline one\nline two\n---\n\nsecond\n  block\n---\n",
			want: []string{"line one\nline two", "second\n  block"}},
		{name: "separator with spaces", in: "a\n  ---\t\nb", want: []string{"a", "b"}},
		{name: "leading separator keeps a hash block", in: "# c\n---\n# Title\ntext\n---\nnext",
			want: []string{"# Title\ntext", "next"}},
		{name: "empty blocks dropped", in: "---\n---\n\n---\nonly\n---\n   \n", want: []string{"only"}},
		{name: "dashes inside a line", in: "a --- b\n----\nc", want: []string{"a --- b", "----", "c"}},
		{name: "CRLF one per line", in: "# c\r\n\r\nfirst\r\nsecond\r\n", want: []string{"first", "second"}},
		{name: "CRLF separator", in: "# c\r\na\r\nb\r\n---\r\nc\r\n", want: []string{"a\nb", "c"}},
		{name: "byte-order mark before comment", in: "\ufeff# c\nfirst\n", want: []string{"first"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := workload.ParseText([]byte(tt.in))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseText(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseShareGPT(t *testing.T) {
	t.Parallel()
	long := "Please explain how a hash map handles collisions"         // 13 tokens
	reply := "It keeps colliding keys in a small list in each bucket." // 17 tokens
	tests := []struct {
		name    string
		in      string
		want    []workload.Prompt
		wantErr string
	}{
		{name: "from/value", in: `[{"id":"a","conversations":[{"from":"human","value":"` + long +
			`"},{"from":"gpt","value":"` + reply + `"}]}]`,
			want: []workload.Prompt{{Text: long, Tokens: 13, MaxTokens: 17}}},
		{name: "role/content messages after a system turn", in: `[{"messages":[
			{"role":"system","content":"Be brief, always, in every answer."},
			{"role":"user","content":"` + long + `"},{"role":"assistant","content":"` + reply + `"}]}]`,
			want: []workload.Prompt{{Text: long, Tokens: 13, MaxTokens: 17}}},
		{name: "role/content in conversations, upper case", in: `[{"conversations":[
			{"role":"User","content":"` + long + `"},{"role":"Assistant","content":"` + reply + `"}]}]`,
			want: []workload.Prompt{{Text: long, Tokens: 13, MaxTokens: 17}}},
		{name: "only the first exchange counts", in: `[{"conversations":[
			{"from":"human","value":"` + long + `"},{"from":"gpt","value":"` + reply + `"},
			{"from":"human","value":"` + reply + `"},{"from":"gpt","value":"` + long + `"}]}]`,
			want: []workload.Prompt{{Text: long, Tokens: 13, MaxTokens: 17}}},
		{name: "short prompt dropped", in: `[{"conversations":[{"from":"human","value":"hi"},
			{"from":"gpt","value":"` + reply + `"}]}]`, want: nil},
		{name: "short reply dropped", in: `[{"conversations":[{"from":"human","value":"` + long + `"},
			{"from":"gpt","value":"Yes."}]}]`, want: nil},
		{name: "no reply dropped", in: `[{"conversations":[{"from":"human","value":"` + long + `"}]}]`, want: nil},
		{name: "no user turn dropped", in: `[{"conversations":[{"from":"gpt","value":"` + long + `"},
			{"from":"gpt","value":"` + reply + `"}]}]`, want: nil},
		{name: "empty array", in: `[]`, want: nil},
		{name: "null", in: `null`, want: nil},
		{name: "byte-order mark", in: "\ufeff[]", want: nil},
		{name: "object, not array", in: `{"conversations":[]}`, wantErr: "not a ShareGPT-style JSON array"},
		{name: "truncated", in: `[{"conversations":[{"from":"human"`, wantErr: "unexpected end of JSON"},
		{name: "syntax error has offset", in: `[{"conversations": [}]`, wantErr: "at byte 21"},
		{name: "wrong type", in: `[{"conversations":[{"from":"human","value":42}]}]`, wantErr: "cannot unmarshal number"},
		{name: "trailing data", in: `[] [{"conversations":[]}]`, wantErr: "after top-level value"},
		{name: "empty input", in: ``, wantErr: "unexpected end of JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := workload.ParseShareGPT([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseShareGPT(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseShareGPT(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseShareGPT(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestLoadSynthetic(t *testing.T) {
	t.Parallel()
	for _, textOnly := range []bool{false, true} {
		src := workload.Source{Name: "rand37x5", Kind: workload.KindRandom, InTokens: 37, OutTokens: 5}
		opts := workload.Options{TextOnly: textOnly, Count: 50}
		a, err := workload.Load(src, rand.New(rand.NewPCG(7, 7)), opts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := workload.Load(src, rand.New(rand.NewPCG(7, 7)), opts)
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("textOnly=%v: same seed gave different prompts (-first +second):\n%s", textOnly, diff)
		}
		if len(a) != 50 {
			t.Fatalf("textOnly=%v: %d prompts, want 50", textOnly, len(a))
		}
		for i, p := range a {
			n := len(p.TokenIDs)
			if textOnly {
				n = tokens.Count(p.Text) // the promise: one word, one token
			}
			if n != 37 || p.Tokens != 37 || p.MaxTokens != 5 || (p.Text == "") != !textOnly {
				t.Errorf("textOnly=%v prompt %d: %d tokens, Tokens %d, MaxTokens %d, text %q; want 37, 37, 5",
					textOnly, i, n, p.Tokens, p.MaxTokens, p.Text)
			}
		}
	}
	src := workload.Source{Kind: workload.KindRandom, InTokens: 3}
	if got, _ := workload.Load(src, rand.New(rand.NewPCG(1, 1)), workload.Options{}); len(got) != workload.DefaultSyntheticCount {
		t.Errorf("default count: %d prompts, want %d", len(got), workload.DefaultSyntheticCount)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name string
		src  workload.Source
		want []string // substrings of the error
	}{
		{name: "comments only", src: workload.Source{Name: "c", Kind: workload.KindText,
			Path: write("c.txt", "# nothing here\n")}, want: []string{"c.txt", "holds no prompts"}},
		{name: "bad json", src: workload.Source{Name: "j", Kind: workload.KindShareGPT,
			Path: write("j.json", "[{")}, want: []string{"j.json", "not a ShareGPT-style"}},
		{name: "all dropped", src: workload.Source{Name: "d", Kind: workload.KindShareGPT,
			Path: write("d.json", `[{"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}]}]`)},
			want: []string{"d.json", "holds no prompts"}},
		{name: "missing", src: workload.Source{Name: "m", Kind: workload.KindText,
			Path: filepath.Join(dir, "gone.txt")}, want: []string{"gone.txt", "no such file"}},
		{name: "unknown kind", src: workload.Source{Name: "u", Kind: "csv"}, want: []string{`unknown kind "csv"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := workload.Load(tt.src, nil, workload.Options{})
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Load(%+v) error = %v, want one containing %q", tt.src, err, w)
				}
			}
		})
	}
}

// FuzzParseText: no panic; prompts are non-empty, trimmed and free of separator lines, and
// writing them back in either documented format reads the same.
//
// go test ./internal/workload -run '^$' -fuzz FuzzParseText -fuzztime 30s
func FuzzParseText(f *testing.F) {
	for _, set := range []string{"short", "medium", "long"} {
		f.Add(readSeed(f, filepath.Join(configDir, "prompts_"+set+".txt")))
	}
	for _, s := range []string{"", "---", "# c\r\na\r\n---\r\nb", "\ufeff#x\n y ", " #a\n---\n#b", "a\r\r\nb\n --- "} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		prompts := workload.ParseText(data)
		singleLines := true
		for _, p := range prompts {
			if p == "" || p != strings.TrimSpace(p) || strings.Contains(p, "\r\n") {
				t.Fatalf("ParseText(%q) gave a malformed prompt %q", data, p)
			}
			for l := range strings.SplitSeq(p, "\n") {
				if strings.TrimSpace(l) == "---" {
					t.Fatalf("ParseText(%q) left a separator in %q", data, p)
				}
			}
			singleLines = singleLines && !strings.Contains(p, "\n")
		}
		// Blocks after a leading separator (so no block is taken for a header comment).
		again := workload.ParseText([]byte("---\n" + strings.Join(prompts, "\n---\n")))
		if diff := cmp.Diff(prompts, again); diff != "" {
			t.Fatalf("ParseText(%q) does not read back as blocks (-first +again):\n%s", data, diff)
		}
		if len(prompts) == 0 || !singleLines || strings.HasPrefix(prompts[0], "#") { // a first "#…" line is a comment
			return
		}
		// One per line, after a blank line so that a leading byte-order mark stays a prompt's.
		again = workload.ParseText([]byte("\n" + strings.Join(prompts, "\n")))
		if diff := cmp.Diff(prompts, again); diff != "" {
			t.Fatalf("ParseText(%q) does not read back as lines (-first +again):\n%s", data, diff)
		}
	})
}

// FuzzParseShareGPT: no panic; either an error or prompts that obey the filter.
//
// go test ./internal/workload -run '^$' -fuzz FuzzParseShareGPT -fuzztime 30s
func FuzzParseShareGPT(f *testing.F) {
	f.Add(readSeed(f, filepath.Join(testdataDir, "sharegpt_small.json")))
	for _, s := range []string{"", "null", "[]", "[{}]", `[{"messages":[{"role":"user","content":"a b c d"},{"content":"e f g h"}]}]`, "[1]", "[] x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		prompts, err := workload.ParseShareGPT(data)
		if err != nil {
			if prompts != nil {
				t.Fatalf("ParseShareGPT(%q) gave prompts and error %v", data, err)
			}
			return
		}
		for _, p := range prompts {
			if p.Tokens != tokens.Count(p.Text) || p.Tokens < workload.MinShareGPTTokens ||
				p.MaxTokens < workload.MinShareGPTTokens || p.TokenIDs != nil {
				t.Fatalf("ParseShareGPT(%q) gave a prompt outside the filter: %+v", data, p)
			}
		}
	})
}

func readSeed(f *testing.F, path string) []byte {
	f.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// TestSyntheticVocabulary: token ids fall inside the model's vocabulary when its size is
// known, away from its lowest (special and byte) ids while there is room.
func TestSyntheticVocabulary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ vocab, lo, hi int }{
		{0, 1000, 100000}, {1024, 512, 1024}, {32000, 1000, 32000}, {128256, 1000, 100000}, {2, 1, 2},
	} {
		lo, hi := workload.TokenRange(tc.vocab)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("TokenRange(%d): got [%d, %d), want [%d, %d)", tc.vocab, lo, hi, tc.lo, tc.hi)
		}
		src := workload.Source{Kind: workload.KindRandom, InTokens: 64}
		got, _ := workload.Load(src, rand.New(rand.NewPCG(3, 3)), workload.Options{VocabSize: tc.vocab, Count: 20})
		for _, p := range got {
			for _, id := range p.TokenIDs {
				if id < tc.lo || id >= tc.hi {
					t.Fatalf("vocab %d: id %d outside [%d, %d)", tc.vocab, id, tc.lo, tc.hi)
				}
			}
		}
	}
}
