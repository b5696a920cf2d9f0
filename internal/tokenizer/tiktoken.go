package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Patterns of OpenAI's encodings (tiktoken's openai_public.py).
const (
	patGPT2   = `'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	patCL100K = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patO200K  = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// tiktokenPattern picks the pattern of a rank file by its name, as tiktoken names them.
func tiktokenPattern(name string) (string, error) {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "o200k"):
		return patO200K, nil
	case strings.Contains(n, "cl100k"):
		return patCL100K, nil
	case strings.Contains(n, "p50k"), strings.Contains(n, "r50k"), strings.Contains(n, "gpt2"):
		return patGPT2, nil
	}
	return "", fmt.Errorf("%w: cannot tell the encoding of %q: name it like its tiktoken file (gpt2, r50k_base, p50k_base, cl100k_base, o200k_base)", ErrUnsupported, name)
}

// ParseTiktoken reads a tiktoken rank file ("<base64 token> <rank>" per line); name (the file
// name) selects the pre-tokenizer pattern. Errors name the line.
func ParseTiktoken(data []byte, name string) (*Tokenizer, error) {
	pat, err := tiktokenPattern(name)
	if err != nil {
		return nil, err
	}
	ranks := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	maxID := -1
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		tok, rank, ok := strings.Cut(text, " ")
		raw, err := base64.StdEncoding.DecodeString(tok)
		r, rerr := strconv.Atoi(rank)
		if !ok || err != nil || rerr != nil || r < 0 || r > 1<<24 {
			return nil, fmt.Errorf("line %d: want \"<base64 token> <rank>\"", line)
		}
		if _, dup := ranks[string(raw)]; dup {
			return nil, fmt.Errorf("line %d: token given twice", line)
		}
		ranks[string(raw)] = r
		maxID = max(maxID, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(ranks) < 256 {
		return nil, fmt.Errorf("%d ranks: a byte-level rank file holds at least the 256 bytes", len(ranks))
	}
	sp, err := newSplitter(pat)
	if err != nil {
		return nil, err
	}
	rankOf := func(a, b string) (int, bool) { r, ok := ranks[a+b]; return r, ok }
	return &Tokenizer{vocab: maxID + 1, pre: []preStep{sp.step},
		model: &bpe{vocab: ranks, pairRank: rankOf, ignoreWhole: true, unk: -1, byteSyms: true}}, nil
}
