// Package workload turns a prompt-set level of the matrix into prompts: a text file of prompts,
// a ShareGPT-style JSON dataset, or synthetic prompts of an exact token count.
package workload

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Kinds of prompt source.
const (
	KindText     = "text"     // a .txt file: prompts separated by lines of "---", else one per line
	KindShareGPT = "sharegpt" // a .json file: ShareGPT-style conversations
	KindRandom   = "random"   // random:IN:OUT — IN random token IDs, OUT output tokens
)

// Source says where an experiment's prompts come from. It is resolved when the matrix is
// planned (so a missing file is reported then) and loaded when the experiment runs.
type Source struct {
	Name      string `json:"name"` // short, id-safe name: "medium", "rand1024x128"
	Kind      string `json:"kind"`
	Path      string `json:"path,omitempty"`
	InTokens  int    `json:"in_tokens,omitempty"`  // random only
	OutTokens int    `json:"out_tokens,omitempty"` // random only; 0 keeps the experiment's max_tokens
	// Spec is a dataset level as llmscale load --prompts reads it (paths made absolute), for
	// the datasets of datasets.go; "" for the others.
	Spec  string `json:"spec,omitempty"`
	Shape        // random and sonnet: length range, distribution, shared prefixes
}

// ErrNotFound is returned when a prompt set names a file that does not exist.
var ErrNotFound = errors.New("prompt file not found")

// MaxRandomTokens bounds IN and OUT of random:IN:OUT: no model's context is longer, and a set of
// synthetic prompts much longer than that would not fit in memory.
const MaxRandomTokens = 1 << 20

var randomLevel = regexp.MustCompile(`^random:(\d+)(?::(\d+))?$`)

// Resolve finds the source of one prompts level: a name in sets (name → file or random:…), a
// random:IN[:OUT] level, a path to a .txt or .json file, or a bare name N that means
// prompts_N.txt. Relative paths are taken from dir, the matrix file's folder.
func Resolve(level string, sets map[string]string, dir string) (Source, error) {
	name := level
	if target, ok := sets[level]; ok {
		src, err := resolveTarget(target, dir)
		src.Name = sanitize(name)
		return src, err
	}
	if IsDataset(level) {
		return resolveTarget(level, dir)
	}
	ext := strings.ToLower(filepath.Ext(level))
	if ext == ".txt" || ext == ".json" || strings.ContainsRune(level, filepath.Separator) {
		return resolveTarget(level, dir)
	}
	src, err := resolveTarget("prompts_"+level+".txt", dir)
	src.Name = sanitize(level)
	if errors.Is(err, ErrNotFound) {
		return src, fmt.Errorf("%w: %s (a bare name N means prompts_N.txt beside the matrix; "+
			"or define it under prompt_sets, or write a path or random:IN:OUT)", ErrNotFound, src.Path)
	}
	return src, err
}

func resolveTarget(target, dir string) (Source, error) {
	if src, ok, err := resolveDataset(target, dir); ok {
		return src, err
	}
	if m := randomLevel.FindStringSubmatch(target); m != nil {
		in, errIn := strconv.Atoi(m[1])
		out, errOut := strconv.Atoi(cmp.Or(m[2], "0"))
		if errIn != nil || errOut != nil || in > MaxRandomTokens || out > MaxRandomTokens {
			return Source{}, fmt.Errorf("%q: token counts above %d are not supported", target, MaxRandomTokens)
		}
		if in < 1 {
			return Source{}, fmt.Errorf("%q: the prompt needs at least one token", target)
		}
		name := "rand" + m[1]
		if out > 0 {
			name += "x" + m[2]
		}
		return Source{Name: name, Kind: KindRandom, InTokens: in, OutTokens: out}, nil
	}
	if strings.HasPrefix(target, "random:") {
		return Source{}, fmt.Errorf("%q is not a synthetic set: write random:IN or random:IN:OUT, e.g. random:1024:128", target)
	}
	path := target
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	kind := KindText
	if strings.EqualFold(filepath.Ext(path), ".json") {
		kind = KindShareGPT
	}
	src := Source{Name: sanitize(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))), Kind: kind, Path: path}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return src, fmt.Errorf("%w: %s", ErrNotFound, path)
		}
		return src, fmt.Errorf("prompt file %s: %w", path, err)
	}
	return src, nil
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// sanitize keeps a name usable in experiment ids and folder names.
func sanitize(s string) string {
	s = unsafeID.ReplaceAllString(s, "-")
	return strings.Trim(strings.TrimPrefix(s, "prompts-"), "-")
}
