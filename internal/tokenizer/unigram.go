package tokenizer

import (
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"
)

// unigram is SentencePiece's unigram model as Hugging Face's tokenizers runs it: the
// segmentation of a piece into vocabulary entries with the highest total score (Viterbi). A
// character no entry starts with is unknown, scored min score − 10; adjacent unknowns fuse into
// one, which becomes <unk> or, with byte fallback, the <0xXX> tokens of its bytes.
type unigram struct {
	ids          map[string]int
	scores       []float64
	maxLen       int // longest entry in bytes
	unk          int
	unkScore     float64
	byteFallback bool
}

// unkPenalty is what an unknown character scores below the lowest entry (SentencePiece's and
// Hugging Face's kUnkPenalty).
const unkPenalty = 10.0

// unigramModel reads model.vocab as [piece, score] pairs; the id is the position.
func unigramModel(m *hfModelJSON) (*unigram, int, error) {
	var entries [][2]json.RawMessage
	if err := json.Unmarshal(m.Vocab, &entries); err != nil {
		return nil, 0, fmt.Errorf("model.vocab: want a list of [piece, score] pairs for a Unigram model: %w", err)
	}
	if m.UnkID == nil || *m.UnkID < 0 || *m.UnkID >= len(entries) {
		return nil, 0, fmt.Errorf("%w: Unigram model without an unk_id inside its %d pieces (unknown characters could not be encoded)", ErrUnsupported, len(entries))
	}
	u := &unigram{ids: make(map[string]int, len(entries)), scores: make([]float64, len(entries)),
		unk: *m.UnkID, byteFallback: m.ByteFallback}
	low := math.Inf(1)
	for i, e := range entries {
		var p string
		if err := json.Unmarshal(e[0], &p); err != nil {
			return nil, 0, fmt.Errorf("model.vocab[%d]: the piece is not a string: %w", i, err)
		}
		if err := json.Unmarshal(e[1], &u.scores[i]); err != nil {
			return nil, 0, fmt.Errorf("model.vocab[%d] %q: the score is not a number: %w", i, p, err)
		}
		u.ids[p] = i // a piece listed twice keeps its last id, as tokenizers does
		u.maxLen = max(u.maxLen, len(p))
		low = min(low, u.scores[i])
	}
	u.unkScore = low - unkPenalty
	return u, len(entries), nil
}

// node is the best segmentation of the text up to a byte offset: its last entry's id, where
// that entry starts, and the total score.
type node struct {
	id    int
	from  int
	score float64
	set   bool
}

func (u *unigram) encode(text string, out []int) []int {
	best := u.viterbi(text)
	// Walk back from the end, then emit in order; unknowns next to each other fuse.
	var spans [][2]int
	for end := len(text); end > 0; end = best[end].from {
		n := best[end]
		if n.id == u.unk && len(spans) > 0 && spans[len(spans)-1][0] == end && best[spans[len(spans)-1][1]].id == u.unk {
			spans[len(spans)-1][0] = n.from
			continue
		}
		spans = append(spans, [2]int{n.from, end})
	}
	for i := len(spans) - 1; i >= 0; i-- {
		out = u.emit(text[spans[i][0]:spans[i][1]], out)
	}
	return out
}

// viterbi fills best[end] for every character boundary, trying entries in order of length so
// that, on equal scores, the first found is kept (as tokenizers' encode_optimized does).
func (u *unigram) viterbi(text string) []node {
	best := make([]node, len(text)+1)
	best[0].set = true
	for from := 0; from < len(text); {
		_, size := utf8.DecodeRuneInString(text[from:])
		single := false
		for end := from + 1; end <= len(text) && end-from <= u.maxLen; end++ {
			id, ok := u.ids[text[from:end]]
			if !ok {
				continue
			}
			u.relax(best, from, end, id, u.scores[id])
			single = single || end-from == size
		}
		if !single {
			u.relax(best, from, from+size, u.unk, u.unkScore)
		}
		from += size
	}
	return best
}

func (u *unigram) relax(best []node, from, end, id int, score float64) {
	s := best[from].score + score
	if !best[end].set || s > best[end].score {
		best[end] = node{id: id, from: from, score: s, set: true}
	}
}

// emit appends the id of one segment; a segment not in the vocabulary (fused unknowns) is its
// bytes with byte fallback when every byte has its <0xXX> entry, else the unknown id.
func (u *unigram) emit(s string, out []int) []int {
	if id, ok := u.ids[s]; ok {
		return append(out, id)
	}
	if u.byteFallback {
		ids := make([]int, 0, len(s))
		for i := range len(s) {
			id, ok := u.ids[fmtByte(s[i])]
			if !ok {
				return append(out, u.unk)
			}
			ids = append(ids, id)
		}
		return append(out, ids...)
	}
	return append(out, u.unk)
}
