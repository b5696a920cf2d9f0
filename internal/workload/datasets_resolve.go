package workload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// IsDataset reports whether a prompts level names a dataset by its kind (random:, sonnet:,
// trace:, multiturn:) rather than a file or a prompt-set name.
func IsDataset(level string) bool {
	for _, k := range []string{KindRandom, KindSonnet, KindTrace, KindMultiTurn} {
		if strings.HasPrefix(level, k+":") {
			return true
		}
	}
	return false
}

// resolveDataset resolves the dataset levels of datasets.go; ok is false for the others (a
// plain random:IN[:OUT] included, which resolveTarget reads itself).
func resolveDataset(target, dir string) (src Source, ok bool, err error) {
	kind, rest, _ := strings.Cut(target, ":")
	switch kind {
	case KindRandom:
		parts := strings.Split(rest, ":")
		if len(parts) <= 2 && !strings.Contains(rest, "=") {
			return Source{}, false, nil
		}
		src, err = resolveShapedRandom(target, parts)
		return src, true, err
	case KindSonnet:
		src, err = resolveSonnet(target, rest, dir)
		return src, true, err
	case KindTrace, KindMultiTurn:
		if rest == "" {
			return Source{}, true, fmt.Errorf("%q: write %s:PATH", target, kind)
		}
		src, err = datasetFile(kind, rest, dir)
		src.Spec = kind + ":" + src.Path
		return src, true, err
	}
	return Source{}, false, nil
}

// resolveShapedRandom reads random:IN[:OUT[:R]][:range=R][:dist=D][:prefix=K][:prefixes=N].
func resolveShapedRandom(level string, parts []string) (Source, error) {
	var pos []string
	for len(parts) > 0 && !strings.Contains(parts[0], "=") && len(pos) < 3 {
		pos, parts = append(pos, parts[0]), parts[1:]
	}
	opts, err := parseOptions(level, parts, "range", "dist", "prefix", "prefixes")
	if err != nil {
		return Source{}, err
	}
	if len(pos) == 3 { // vLLM's order: input, output, range ratio
		if _, dup := opts["range"]; dup {
			return Source{}, fmt.Errorf("%q: the range ratio is given twice (third part and range=)", level)
		}
		opts["range"] = pos[2]
	}
	in, out, err := lengths(level, pos[:min(len(pos), 2)])
	if err != nil {
		return Source{}, err
	}
	shape, err := shapeOf(level, opts)
	if err != nil {
		return Source{}, err
	}
	name := "rand" + strconv.Itoa(in)
	if out > 0 {
		name += "x" + strconv.Itoa(out)
	}
	return Source{Name: name + shape.name(), Kind: KindRandom, InTokens: in, OutTokens: out, Spec: level, Shape: shape}, nil
}

// lengths reads IN and optional OUT token counts.
func lengths(level string, pos []string) (in, out int, err error) {
	if len(pos) == 0 || pos[0] == "" {
		return 0, 0, fmt.Errorf("%q: the input length is missing, e.g. random:1024:128", level)
	}
	vals := make([]int, 2)
	for i, p := range pos {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > MaxRandomTokens {
			return 0, 0, fmt.Errorf("%q: %q is not a token count from 0 to %d", level, p, MaxRandomTokens)
		}
		vals[i] = v
	}
	if vals[0] < 1 {
		return 0, 0, fmt.Errorf("%q: the prompt needs at least one token", level)
	}
	return vals[0], vals[1], nil
}

// resolveSonnet reads sonnet:PATH:IN:OUT[:prefix=K].
func resolveSonnet(level, rest, dir string) (Source, error) {
	parts := strings.Split(rest, ":")
	if len(parts) < 3 {
		return Source{}, fmt.Errorf("%q: write sonnet:PATH:IN:OUT[:prefix=K], e.g. sonnet:sonnet.txt:550:150:prefix=200", level)
	}
	in, out, err := lengths(level, parts[1:3])
	if err != nil {
		return Source{}, err
	}
	opts, err := parseOptions(level, parts[3:], "prefix")
	if err != nil {
		return Source{}, err
	}
	shape, err := shapeOf(level, opts)
	if err != nil {
		return Source{}, err
	}
	if shape.PrefixTokens >= in {
		return Source{}, fmt.Errorf("%q: prefix=%d must be shorter than the input length %d", level, shape.PrefixTokens, in)
	}
	src, err := datasetFile(KindSonnet, parts[0], dir)
	src.InTokens, src.OutTokens, src.Shape = in, out, shape
	src.Name = fmt.Sprintf("%s%dx%d%s", src.Name, in, out, shape.name())
	src.Spec = strings.Join(append([]string{KindSonnet, src.Path}, parts[1:]...), ":")
	return src, err
}

// datasetFile resolves the file of a dataset level against dir and checks it exists.
func datasetFile(kind, path, dir string) (Source, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	src := Source{Name: sanitize(kind + "-" + strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))), Kind: kind, Path: path}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return src, fmt.Errorf("%w: %s", ErrNotFound, path)
		}
		return src, fmt.Errorf("%s file %s: %w", kind, path, err)
	}
	return src, nil
}
