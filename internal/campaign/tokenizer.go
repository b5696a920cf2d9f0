package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/llmscale/llmscale/internal/tokenizer"
)

// campaignTokenizer is the matrix's tokenizer, read once for the whole campaign, with the
// digest of its file for the records.
type campaignTokenizer struct {
	tok    *tokenizer.Tokenizer
	sha256 string
	err    error
}

// tokenizer returns the tokenizer at path ("": none, nil), reading it the first time.
func (r *Runner) tokenizer(path string) (*campaignTokenizer, error) {
	if path == "" {
		return nil, nil
	}
	r.tokMu.Lock()
	defer r.tokMu.Unlock()
	if ct, ok := r.toks[path]; ok {
		return ct, ct.err
	}
	ct := &campaignTokenizer{}
	ct.tok, ct.err = tokenizer.Load(path)
	if ct.err == nil {
		ct.sha256, ct.err = fileDigest(ct.tok.Name())
	}
	if ct.err != nil {
		ct.err = fmt.Errorf("matrix tokenizer: %w", ct.err)
	}
	if r.toks == nil {
		r.toks = map[string]*campaignTokenizer{}
	}
	r.toks[path] = ct
	return ct, ct.err
}

// fileDigest is the sha256 of a file, in hex.
func fileDigest(path string) (string, error) {
	f, err := os.Open(filepath.Clean(path))
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
