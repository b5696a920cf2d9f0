package workload

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/tokens"
)

// Prompt is one request's input.
type Prompt struct {
	Text      string // set for text prompts
	TokenIDs  []int  // set for synthetic prompts on the completions API
	Tokens    int    // prompt length: exact for token IDs, approximate (tokens.Count) for text
	MaxTokens int    // output length from the dataset; 0 keeps the experiment's max_tokens

	// Arrival is when a trace's request is due, from the trace's first (Timed set).
	Arrival time.Duration
	Timed   bool
	// Messages is a multi-turn conversation up to this turn (history, then this user turn), for
	// the chat API; Text holds the same as one text. Conversation (1-based; 0: none) and Turn
	// (0-based) say where it belongs: a closed-loop user sends a conversation's turns in order.
	Messages     []Message
	Conversation int
	Turn         int

	Synthetic bool // words drawn at random to a length: Recount fits them to the length
}

// Message is one turn of a conversation, as the chat API takes it.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Options shape how synthetic prompts are made.
type Options struct {
	// TextOnly makes synthetic prompts as words instead of token IDs (the chat API takes text only).
	TextOnly bool
	// Count is how many synthetic prompts to make; requests cycle through them.
	Count int
	// Tokenizer, when set, counts prompt and reply lengths as the model does (tokenized.go's
	// Recount), instead of tokens.Count's approximation.
	Tokenizer Counter
	// VocabSize is the model's vocabulary size: synthetic token ids are drawn below it. 0 (not
	// known) draws from [1000, 100000), ordinary tokens of a Llama-3-sized vocabulary.
	VocabSize int
}

// DefaultSyntheticCount is how many distinct synthetic prompts a set holds.
const DefaultSyntheticCount = 1000

// Load reads or makes the prompts of a source. rng drives synthetic prompts only.
func Load(src Source, rng *rand.Rand, opts Options) ([]Prompt, error) {
	prompts, err := load(src, rng, opts)
	if err == nil && opts.Tokenizer != nil {
		Recount(prompts, opts.Tokenizer)
	}
	return prompts, err
}

func load(src Source, rng *rand.Rand, opts Options) ([]Prompt, error) {
	switch src.Kind {
	case KindRandom:
		if src.Shape != (Shape{}) {
			return randomShaped(src, rng, opts), nil
		}
		return synthetic(src, rng, opts), nil
	case KindSonnet, KindTrace, KindMultiTurn:
		return loadDataset(src, rng, opts)
	case KindText, KindShareGPT:
		data, err := readPromptFile(src.Path)
		if err != nil {
			return nil, fmt.Errorf("prompts %s: %w", src.Name, err)
		}
		if err := checkBytes(data); err != nil {
			return nil, fmt.Errorf("prompt file %s: %w", src.Path, err)
		}
		var prompts []Prompt
		if src.Kind == KindText {
			prompts = textPrompts(ParseText(data))
		} else if prompts, err = parseShareGPT(data, countsOf(opts.Tokenizer)); err != nil {
			return nil, fmt.Errorf("prompts %s: %s: %w", src.Name, src.Path, err)
		}
		if len(prompts) == 0 {
			return nil, fmt.Errorf("prompts %s: %s holds no prompts", src.Name, src.Path)
		}
		return prompts, nil
	}
	return nil, fmt.Errorf("prompts %s: unknown kind %q", src.Name, src.Kind)
}

// ParseText splits a prompt file. If any line is "---" (surrounding spaces aside), prompts are
// the blocks between such lines, so a prompt may span lines; otherwise every non-empty line is a
// prompt. Lines starting with "#" (after any indentation) before the first prompt are comments.
// Line endings may be LF or CRLF, and a leading byte-order mark is ignored. Prompts are trimmed
// of surrounding white space and empty ones are dropped.
func ParseText(data []byte) []string {
	lines := splitLines(data)
	for len(lines) > 0 && isHeaderLine(lines[0]) {
		lines = lines[1:]
	}
	if !slices.ContainsFunc(lines, isSeparator) {
		var prompts []string
		for _, l := range lines {
			if l = strings.TrimSpace(l); l != "" {
				prompts = append(prompts, l)
			}
		}
		return prompts
	}
	var blocks []string
	start := 0
	for i := 0; i <= len(lines); i++ {
		if i < len(lines) && !isSeparator(lines[i]) {
			continue
		}
		if b := strings.TrimSpace(strings.Join(lines[start:i], "\n")); b != "" {
			blocks = append(blocks, b)
		}
		start = i + 1
	}
	return blocks
}

// splitLines splits text into lines without their line endings (LF or CRLF), ignoring a
// leading UTF-8 byte-order mark, which Windows editors write.
func splitLines(data []byte) []string {
	text := strings.TrimPrefix(string(data), "\ufeff")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, "\r")
	}
	return lines
}

func isSeparator(line string) bool { return strings.TrimSpace(line) == "---" }

func isHeaderLine(line string) bool {
	t := strings.TrimSpace(line)
	return t == "" || strings.HasPrefix(t, "#")
}

func textPrompts(texts []string) []Prompt {
	out := make([]Prompt, len(texts))
	for i, t := range texts {
		out[i] = Prompt{Text: t, Tokens: tokens.Count(t)}
	}
	return out
}

// shareGPTEntry is one conversation of a ShareGPT-style dataset. Both the original
// {"from": "human", "value": …} turns and OpenAI-style {"role": "user", "content": …} are read.
type shareGPTEntry struct {
	Conversations []turn `json:"conversations"`
	Messages      []turn `json:"messages"`
}

type turn struct {
	From    string `json:"from"`
	Value   string `json:"value"`
	Role    string `json:"role"`
	Content string `json:"content"`
}

// speaker and text read the ShareGPT fields, or the OpenAI-style ones when those are empty.
func (t turn) speaker() string { return strings.ToLower(cmp.Or(t.From, t.Role)) }
func (t turn) text() string    { return cmp.Or(t.Value, t.Content) }

// MinShareGPTTokens drops conversations whose prompt or reply is shorter, as vLLM's benchmark does.
const MinShareGPTTokens = 4

// ParseShareGPT reads a JSON array of conversations; each gives the first user turn as the
// prompt and the length of the reply that follows it as the output length. Conversations whose
// prompt or reply is shorter than MinShareGPTTokens are dropped. Anything after the array is an
// error, as is a syntax error anywhere in the file (reported with its byte offset).
func ParseShareGPT(data []byte) ([]Prompt, error) { return parseShareGPT(data, approximate()) }

// decodeShareGPT reads a ShareGPT-style JSON array of conversations (a leading BOM allowed),
// naming the byte offset of a syntax error.
func decodeShareGPT(data []byte) ([]shareGPTEntry, error) {
	var entries []shareGPTEntry
	if err := json.Unmarshal(bytes.TrimPrefix(data, []byte("\ufeff")), &entries); err != nil {
		if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
			err = fmt.Errorf("at byte %d: %w", se.Offset, err)
		}
		return nil, fmt.Errorf("not a ShareGPT-style JSON array of conversations: %w", err)
	}
	return entries, nil
}

// parseShareGPT is ParseShareGPT with the lengths counted by c.
func parseShareGPT(data []byte, c counts) ([]Prompt, error) {
	entries, err := decodeShareGPT(data)
	if err != nil {
		return nil, err
	}
	var out []Prompt
	for _, e := range entries {
		turns := e.Conversations
		if len(turns) == 0 {
			turns = e.Messages
		}
		if p, ok := firstExchange(turns, c); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func firstExchange(turns []turn, c counts) (Prompt, bool) {
	for i := 0; i+1 < len(turns); i++ {
		who := turns[i].speaker()
		if who != "human" && who != "user" {
			continue
		}
		prompt, reply := turns[i].text(), turns[i+1].text()
		in, out := c.prompt(prompt), c.reply(reply)
		if in < MinShareGPTTokens || out < MinShareGPTTokens {
			return Prompt{}, false
		}
		return Prompt{Text: prompt, Tokens: in, MaxTokens: out}, true
	}
	return Prompt{}, false
}

// vocabulary used for synthetic token IDs: ordinary tokens of a Llama-3-sized vocabulary, away
// from the special tokens at both ends.
const (
	minTokenID = 1000
	maxTokenID = 100000
)

// TokenRange is where synthetic token ids are drawn from, [lo, hi), for a vocabulary of the
// given size (0: unknown). The lowest ids (special and byte tokens in most vocabularies) are
// avoided while the vocabulary leaves room: below min(1000, size/2).
func TokenRange(vocabSize int) (lo, hi int) {
	if vocabSize <= 0 {
		return minTokenID, maxTokenID
	}
	return min(minTokenID, vocabSize/2), min(maxTokenID, vocabSize)
}

// syntheticVocabulary's words have at most four letters, so each is one token by tokens.Count
// and a text prompt of n words has n tokens.
const syntheticVocabulary = ("the of and to in is was for on as with by at from his her " +
	"that this are be or an had not but what all were when we can more if no out so said up its " +
	"into than them only new some time two may then do any my now such like our over man me even " +
	"most made also did many way well down have will been they your just know take year good " +
	"back work")

func synthetic(src Source, rng *rand.Rand, opts Options) []Prompt {
	n := opts.Count
	if n <= 0 {
		n = DefaultSyntheticCount
	}
	words := strings.Fields(syntheticVocabulary)
	out := make([]Prompt, n)
	for i := range out {
		p := Prompt{Tokens: src.InTokens, MaxTokens: src.OutTokens}
		if opts.TextOnly {
			text := make([]string, src.InTokens)
			for j := range text {
				text[j] = words[rng.IntN(len(words))]
			}
			p.Text, p.Synthetic = strings.Join(text, " "), true
		} else {
			lo, hi := TokenRange(opts.VocabSize)
			p.TokenIDs = make([]int, src.InTokens)
			for j := range p.TokenIDs {
				p.TokenIDs[j] = lo + rng.IntN(hi-lo)
			}
		}
		out[i] = p
	}
	return out
}
