package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// precompiled is SentencePiece's compiled normalisation rules (the "Precompiled" normaliser
// of tokenizer.json files converted from a .model: T5, ALBERT, XLM-R): a double-array trie
// (darts-clone) over UTF-8 keys whose values are offsets of NUL-terminated replacements.
type precompiled struct {
	array      []uint32
	normalized string
}

// parsePrecompiled reads precompiled_charsmap: base64 of [u32 trie size in bytes][trie][strings].
func parsePrecompiled(charsmap string) (*precompiled, error) {
	raw, err := base64.StdEncoding.DecodeString(charsmap)
	if err != nil {
		return nil, fmt.Errorf("normalizer Precompiled: precompiled_charsmap is not base64: %w", err)
	}
	if len(raw) < 4 {
		return nil, fmt.Errorf("normalizer Precompiled: precompiled_charsmap of %d bytes has no trie size", len(raw))
	}
	size := binary.LittleEndian.Uint32(raw)
	if size%4 != 0 || size == 0 || uint64(size) > uint64(len(raw)-4) {
		return nil, fmt.Errorf("normalizer Precompiled: trie of %d bytes in a charsmap of %d", size, len(raw))
	}
	p := &precompiled{array: make([]uint32, size/4), normalized: string(raw[4+size:])}
	for i := range p.array {
		p.array[i] = binary.LittleEndian.Uint32(raw[4+4*i:])
	}
	if !utf8.ValidString(p.normalized) {
		return nil, fmt.Errorf("normalizer Precompiled: the replacement strings are not UTF-8")
	}
	return p, nil
}

// Unit fields of darts-clone's double array.
func hasLeaf(u uint32) bool     { return (u>>8)&1 == 1 }
func unitValue(u uint32) uint32 { return u & (1<<31 - 1) }
func unitLabel(u uint32) uint32 { return u & (1<<31 | 0xFF) }
func unitOffset(u uint32) uint32 {
	return (u >> 10) << ((u & (1 << 9)) >> 6)
}

// firstPrefix is the value of the shortest key that is a prefix of key (what spm_precompiled's
// transform takes: results[0] of its common prefix search); ok is false when none is.
func (p *precompiled) firstPrefix(key string) (value uint32, ok bool) {
	if len(p.array) == 0 {
		return 0, false
	}
	pos := unitOffset(p.array[0])
	for i := 0; i < len(key) && key[i] != 0; i++ {
		pos ^= uint32(key[i])
		if int(pos) >= len(p.array) {
			return 0, false
		}
		u := p.array[pos]
		if unitLabel(u) != uint32(key[i]) {
			return 0, false
		}
		pos ^= unitOffset(u)
		if int(pos) >= len(p.array) {
			return 0, false
		}
		if hasLeaf(u) {
			return unitValue(p.array[pos]), true
		}
	}
	return 0, false
}

// transform is the replacement of chunk, if a key is a prefix of it.
func (p *precompiled) transform(chunk string) (string, bool) {
	v, ok := p.firstPrefix(chunk)
	if !ok || int(v) > len(p.normalized) {
		return "", false
	}
	rest := p.normalized[v:]
	if end := strings.IndexByte(rest, 0); end >= 0 {
		rest = rest[:end]
	}
	return rest, true
}

// normalize is tokenizers' Precompiled normaliser: each grapheme cluster shorter than 6 bytes
// is replaced whole when a key is a prefix of it (the shortest key's replacement, even if
// shorter than the grapheme: tokenizers does so, to match SentencePiece on XNLI); otherwise each
// of its characters is replaced on its own when a key is a prefix of it.
func (p *precompiled) normalize(text string) string {
	var b strings.Builder
	state := -1
	for rest := text; rest != ""; {
		var g string
		g, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if len(g) < 6 {
			if norm, ok := p.transform(g); ok {
				b.WriteString(norm)
				continue
			}
		}
		for len(g) > 0 {
			_, size := utf8.DecodeRuneInString(g)
			part := g[:size]
			g = g[size:]
			if norm, ok := p.transform(part); ok {
				b.WriteString(norm)
			} else {
				b.WriteString(part)
			}
		}
	}
	return b.String()
}
