package workload

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestResolveDatasets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, f := range []string{"sonnet.txt", "trace.csv", "chats.json"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		level, name, kind, wantErr string
		in, out                    int
		shape                      Shape
	}{
		{level: "random:1024:128:0.5", name: "rand1024x128r0.5", kind: KindRandom, in: 1024, out: 128, shape: Shape{RangeRatio: 0.5}},
		{level: "random:1024:128:range=0.25:dist=normal", name: "rand1024x128r0.25n", kind: KindRandom, in: 1024, out: 128,
			shape: Shape{RangeRatio: 0.25, Dist: DistNormal}},
		{level: "random:512:64:prefix=256:prefixes=4", name: "rand512x64p256x4", kind: KindRandom, in: 512, out: 64,
			shape: Shape{PrefixTokens: 256, Prefixes: 4}},
		{level: "random:512:prefix=100", name: "rand512p100", kind: KindRandom, in: 512, shape: Shape{PrefixTokens: 100}},
		{level: "sonnet:sonnet.txt:550:150:prefix=200", name: "sonnet-sonnet550x150p200", kind: KindSonnet, in: 550, out: 150,
			shape: Shape{PrefixTokens: 200}},
		{level: "trace:trace.csv", name: "trace-trace", kind: KindTrace},
		{level: "multiturn:chats.json", name: "multiturn-chats", kind: KindMultiTurn},
		{level: "random:1024:128:1.5", wantErr: "0 ≤ R < 1"},
		{level: "random:1024:128:0.5:range=0.2", wantErr: "given twice"},
		{level: "random:1024:128:dist=normal", wantErr: "needs range=R"},
		{level: "random:1024:128:range=0.1:dist=zipf", wantErr: "uniform or normal"},
		{level: "random:1024:128:prefixes=2", wantErr: "needs prefix=K"},
		{level: "random:1024:128:colour=red", wantErr: "not an option"},
		{level: "random:0:128:prefix=2", wantErr: "at least one token"},
		{level: "random:x:128:prefix=2", wantErr: "not a token count"},
		{level: "sonnet:sonnet.txt:550", wantErr: "sonnet:PATH:IN:OUT"},
		{level: "sonnet:sonnet.txt:100:10:prefix=200", wantErr: "shorter than the input"},
		{level: "sonnet:missing.txt:550:150", wantErr: "not found"},
		{level: "trace:", wantErr: "trace:PATH"},
		{level: "multiturn:nope.json", wantErr: "not found"},
	}
	for _, c := range cases {
		src, err := Resolve(c.level, nil, dir)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("Resolve(%q) error %v, want %q", c.level, err, c.wantErr)
			}
			continue
		}
		if err != nil || src.Name != c.name || src.Kind != c.kind || src.InTokens != c.in || src.OutTokens != c.out || src.Shape != c.shape {
			t.Errorf("Resolve(%q) = %+v, %v; want name %q kind %s in %d out %d shape %+v", c.level, src, err, c.name, c.kind, c.in, c.out, c.shape)
		}
		if c.kind != KindRandom && !strings.HasPrefix(src.Spec, c.kind+":"+dir) {
			t.Errorf("Resolve(%q).Spec = %q: want the kind and an absolute path for load workers", c.level, src.Spec)
		}
		if again, err := Resolve(src.Spec, nil, "/elsewhere"); err != nil || again.Name != src.Name || again.Shape != src.Shape {
			t.Errorf("Resolve(Spec %q) = %+v, %v: the spec does not load the same source", src.Spec, again, err)
		}
	}
}

func TestRandomShaped(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	src, err := Resolve("random:100:50:0.2:prefix=30:prefixes=2", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Load(src, rng, Options{Count: 400})
	if err != nil {
		t.Fatal(err)
	}
	seenIn, seenOut := map[int]bool{}, map[int]bool{}
	for i, p := range ps {
		in := p.Tokens - 30
		if in < 80 || in > 120 || p.MaxTokens < 40 || p.MaxTokens > 60 || len(p.TokenIDs) != p.Tokens {
			t.Fatalf("prompt %d: %d+30 tokens, max_tokens %d; want 80–120 and 40–60 (uniform ±20%%)", i, in, p.MaxTokens)
		}
		seenIn[in], seenOut[p.MaxTokens] = true, true
		if !slices.Equal(p.TokenIDs[:30], ps[i%2].TokenIDs[:30]) {
			t.Fatalf("prompt %d does not share prefix %d", i, i%2)
		}
	}
	if slices.Equal(ps[0].TokenIDs[:30], ps[1].TokenIDs[:30]) {
		t.Error("the two prefixes are the same")
	}
	if !seenIn[80] || !seenIn[120] || len(seenIn) != 41 || len(seenOut) != 21 {
		t.Errorf("input lengths %d distinct (ends seen %v %v), outputs %d: want every length of [80,120] and [40,60]",
			len(seenIn), seenIn[80], seenIn[120], len(seenOut))
	}
	chat, _ := Load(src, rand.New(rand.NewPCG(1, 2)), Options{Count: 4, TextOnly: true})
	if a, b := strings.Fields(chat[0].Text)[:30], strings.Fields(chat[2].Text)[:30]; !slices.Equal(a, b) {
		t.Error("text prompts of one prefix do not share their first 30 words")
	}
}

func TestSonnet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var lines []string
	for i := range 40 {
		lines = append(lines, strings.Repeat("word ", 8)+string(rune('a'+i%26))) // 9 tokens a line
	}
	path := filepath.Join(dir, "sonnet.txt")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Resolve("sonnet:sonnet.txt:200:20:prefix=60", nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Load(src, rand.New(rand.NewPCG(3, 4)), Options{Count: 20})
	if err != nil {
		t.Fatal(err)
	}
	prefix := sonnetInstruction + strings.Join(lines[:5], "\n") + "\n" // (60 − 11) / 9 ≈ 5 lines
	for i, p := range ps {
		if !strings.HasPrefix(p.Text, prefix) || p.MaxTokens != 20 || p.Tokens < 190 || p.Tokens > 210 {
			t.Fatalf("prompt %d: %d tokens, max_tokens %d, shares the prefix %v; want ≈200, 20, true:\n%s", i, p.Tokens,
				p.MaxTokens, strings.HasPrefix(p.Text, prefix), p.Text)
		}
	}
	if ps[0].Text == ps[1].Text {
		t.Error("two sonnet prompts are the same: lines are not drawn at random")
	}
}

func TestParseTrace(t *testing.T) {
	t.Parallel()
	s := time.Second
	cases := []struct {
		name, data, wantErr string
		want                []TraceEntry
	}{
		{name: "llmscale csv", data: "arrival_s,input_tokens,output_tokens\n0.5,100,10\n1.5,200,20\n",
			want: []TraceEntry{{0, 100, 10}, {s, 200, 20}}},
		{name: "burstgpt", data: "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n5,ChatGPT,472,18,490,Conversation log\n7,GPT-4,1087,230,1317,Conversation log\n",
			want: []TraceEntry{{0, 472, 18}, {2 * s, 1087, 230}}},
		{name: "azure", data: "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.9951690,396,109\n",
			want: []TraceEntry{{0, 374, 44}, {4314579 * time.Microsecond, 396, 109}}},
		{name: "jsonl ms", data: `{"timestamp_ms": 1000, "input_length": 10, "output_length": 5, "hash_ids": [1,2]}` + "\n\n" +
			`{"timestamp_ms": 1250, "input_length": 11, "output_length": 6}` + "\n",
			want: []TraceEntry{{0, 10, 5}, {250 * time.Millisecond, 11, 6}}},
		{name: "no time column", data: "when,input_tokens,output_tokens\n1,2,3\n", wantErr: "line 1: header"},
		{name: "backwards", data: "timestamp,input_tokens,output_tokens\n2,1,1\n1,1,1\n", wantErr: "line 3: time \"1\" is before"},
		{name: "zero output", data: "timestamp,input_tokens,output_tokens\n1,5,0\n", wantErr: "line 2: output length \"0\""},
		{name: "bad time", data: "timestamp,input_tokens,output_tokens\nsoon,5,5\n", wantErr: "line 2: time \"soon\""},
		{name: "short row", data: "timestamp,input_tokens,output_tokens\n1,5\n", wantErr: "line 2: 2 fields"},
		{name: "bad json", data: "{\"timestamp\": 1,\n", wantErr: "line 1: not a JSON object"},
		{name: "json lacks", data: `{"timestamp": 1, "input_tokens": 2, "output_tokens": 3}` + "\n" + `{"timestamp": 2, "input_tokens": 2}`, wantErr: "line 2: lacks"},
		{name: "huge time", data: "timestamp,input_tokens,output_tokens\n1e300,1,1\n", wantErr: "out of range"},
	}
	for _, c := range cases {
		got, err := ParseTrace([]byte(c.data))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestParseMultiTurn(t *testing.T) {
	t.Parallel()
	data := `[{"conversations": [
		{"from": "human", "value": "What is the capital of France?"},
		{"from": "gpt", "value": "The capital of France is Paris."},
		{"from": "human", "value": "And what about Germany, please?"},
		{"from": "gpt", "value": "The capital of Germany is Berlin."},
		{"from": "human", "value": "ok"},
		{"from": "gpt", "value": "Anything else I can help with?"}]},
	 {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there, how are you?"}]},
	 {"messages": [{"role": "user", "content": "Tell me a joke about cats."}, {"role": "assistant", "content": "Why did the cat sit on the computer?"}]}]`
	ps, err := ParseMultiTurn([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 {
		t.Fatalf("%d prompts, want 3: two turns of the first conversation (its third is too short), none of the second, one of the third", len(ps))
	}
	second := ps[1]
	if second.Conversation != 1 || second.Turn != 1 || len(second.Messages) != 3 || second.Messages[1].Role != "assistant" ||
		second.Messages[2].Content != "And what about Germany, please?" || !strings.Contains(second.Text, "Paris") {
		t.Errorf("second turn %+v: want conversation 1, turn 1, with the first exchange as history", second)
	}
	if ps[2].Conversation != 2 || ps[2].Turn != 0 || len(ps[2].Messages) != 1 || ps[2].Text != "Tell me a joke about cats." {
		t.Errorf("third prompt %+v: want conversation 2's first turn alone", ps[2])
	}
	if ps[0].MaxTokens < MinShareGPTTokens || ps[1].Tokens <= ps[0].Tokens {
		t.Errorf("lengths: first %d→%d, second %d tokens; the second carries history so is longer", ps[0].Tokens, ps[0].MaxTokens, ps[1].Tokens)
	}
	if _, err := ParseMultiTurn([]byte("[{")); err == nil || !strings.Contains(err.Error(), "at byte") {
		t.Errorf("broken JSON: error %v, want the byte offset", err)
	}
}

func FuzzParseTrace(f *testing.F) {
	f.Add([]byte("arrival_s,input_tokens,output_tokens\n0.5,100,10\n1.5,200,20\n"))
	f.Add([]byte("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n"))
	f.Add([]byte(`{"timestamp_ms": 1000, "input_length": 10, "output_length": 5}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := ParseTrace(data)
		if err != nil {
			return
		}
		for i, e := range es {
			if e.In < 1 || e.Out < 1 || e.Arrival < 0 || (i > 0 && e.Arrival < es[i-1].Arrival) {
				t.Fatalf("entry %d = %+v: lengths below 1 or time going backwards", i, e)
			}
		}
	})
}

func FuzzParseMultiTurn(f *testing.F) {
	f.Add([]byte(`[{"conversations": [{"from": "human", "value": "What is up today?"}, {"from": "gpt", "value": "Not much at all, you?"}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ParseMultiTurn(data)
		if err != nil {
			return
		}
		for i, p := range ps {
			if p.Conversation < 1 || len(p.Messages) != 2*p.Turn+1 || p.Messages[len(p.Messages)-1].Role != "user" {
				t.Fatalf("prompt %d = %+v: not a turn with its history", i, p)
			}
		}
	})
}
