package tokenizer

import "fmt"

// bpe merges symbols by rank: the adjacent pair whose merge ranks lowest is merged first,
// until no pair can merge. Ranks come from a merges list (Hugging Face) or from the rank of the
// merged token itself (tiktoken), which give the same order for byte-level vocabularies.
type bpe struct {
	vocab        map[string]int // symbol (raw bytes or text) → id
	pairRank     func(a, b string) (int, bool)
	ignoreWhole  bool         // a piece found whole in the vocabulary is one token (Llama 3, tiktoken)
	byteFallback map[byte]int // SentencePiece: <0xXX> ids for symbols not in the vocabulary
	unk          int          // id for an unknown symbol; -1: none
	byteSyms     bool         // byte-level: a piece's symbols are its bytes (else its runes)
}

func (b *bpe) encode(piece string, out []int) []int {
	return b.merge(b.symbols(piece), out)
}

// symbols splits a piece into the units BPE starts from: bytes for byte-level models, runes
// otherwise.
func (b *bpe) symbols(piece string) []string {
	var out []string
	if b.byteSyms {
		for i := range len(piece) {
			out = append(out, piece[i:i+1])
		}
		return out
	}
	for _, r := range piece {
		out = append(out, string(r))
	}
	return out
}

// merge applies the merges to the symbols of one piece and appends their ids.
func (b *bpe) merge(syms []string, out []int) []int {
	if len(syms) == 0 {
		return out
	}
	if b.ignoreWhole || len(syms) == 1 {
		whole := ""
		for _, s := range syms {
			whole += s
		}
		if id, ok := b.vocab[whole]; ok {
			return append(out, id)
		}
	}
	for len(syms) > 1 {
		best, bestRank := -1, 0
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := b.pairRank(syms[i], syms[i+1]); ok && (best < 0 || r < bestRank) {
				best, bestRank = i, r
			}
		}
		if best < 0 {
			break
		}
		syms[best] += syms[best+1]
		syms = append(syms[:best+1], syms[best+2:]...)
	}
	for _, s := range syms {
		out = b.emit(s, out)
	}
	return out
}

// emit appends the id of a final symbol, falling back to its bytes or the unknown token.
func (b *bpe) emit(s string, out []int) []int {
	if id, ok := b.vocab[s]; ok {
		return append(out, id)
	}
	if b.byteFallback != nil {
		for i := range len(s) {
			if id, ok := b.byteFallback[s[i]]; ok {
				out = append(out, id)
			} else if b.unk >= 0 {
				out = append(out, b.unk)
			}
		}
		return out
	}
	if b.unk >= 0 {
		return append(out, b.unk)
	}
	// A byte-level vocabulary holds every byte, so this is a malformed file: count one token.
	return append(out, -1)
}

func fmtByte(c byte) string { return fmt.Sprintf("<0x%02X>", c) }
