package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Error lists every problem found in a matrix.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "matrix %s has %d problem", e.File, len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString(":")
	for _, p := range e.Problems {
		b.WriteString("\n  - " + p.String())
	}
	return b.String()
}

// ErrInvalid is matched by every *Error (errors.Is(err, spec.ErrInvalid)).
var ErrInvalid = errors.New("invalid matrix")

// Is makes *Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Loaded is a parsed spec together with what is needed to point at its lines.
type Loaded struct {
	Spec
	File   string // the file name as given
	Hash   string // sha256 of the file's bytes
	Source []byte // the file's bytes, kept for provenance

	positions map[string][2]int
	origins   map[string]string // path → override that set it
}

// LoadFile reads a matrix file and applies the overlays in order (each later one wins), then
// the defaults, then validates. name is the path as the user wrote it, for messages. The
// returned error is an *Error listing every problem.
func LoadFile(path, name string, overlays ...Overlay) (*Loaded, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("matrix %s: %w", name, err)
	}
	return Parse(data, name, filepath.Dir(path), overlays...)
}

// Parse is LoadFile without the file system read; dir is the folder relative paths in the
// matrix start from.
func Parse(data []byte, name, dir string, overlays ...Overlay) (*Loaded, error) {
	sum := sha256.Sum256(data)
	l := &Loaded{File: name, Hash: hex.EncodeToString(sum[:]), Source: data,
		positions: map[string][2]int{}, origins: map[string]string{}}
	l.Dir = dir
	if problems := l.decode(data); len(problems) > 0 {
		return nil, &Error{File: name, Problems: problems}
	}
	for _, o := range overlays {
		if problems := l.apply(o); len(problems) > 0 {
			return nil, &Error{File: name, Problems: problems}
		}
	}
	l.ApplyDefaults(name)
	if problems := l.Validate(); len(problems) > 0 {
		return nil, &Error{File: name, Problems: problems}
	}
	return l, nil
}

func (l *Loaded) decode(data []byte) []Problem {
	if len(bytes.TrimSpace(data)) == 0 {
		return []Problem{{Path: "$", Msg: "the file is empty", Hint: "start from config/experiment_matrix.yaml"}}
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return []Problem{yamlProblem(err)}
	}
	if len(file.Docs) != 1 {
		return []Problem{{Path: "$", Msg: fmt.Sprintf("holds %d YAML documents", len(file.Docs)), Hint: "keep one"}}
	}
	c := schemaChecker{positions: l.positions}
	body := file.Docs[0].Body
	if _, ok := unwrap(body).(*ast.MappingNode); !ok && body != nil {
		line, col := nodePos(body)
		return []Problem{{Path: "$", Line: line, Col: col, Msg: "want a map of settings at the top, got " + describe(unwrap(body))}}
	}
	if body != nil {
		c.check(body, reflect.TypeFor[Spec]())
	}
	if len(c.problems) > 0 {
		return c.problems
	}
	if err := yaml.UnmarshalWithOptions(data, &l.Spec, yaml.Strict()); err != nil {
		return []Problem{yamlProblem(err)}
	}
	return nil
}

// yamlProblem turns a goccy/go-yaml error into a Problem with its position.
func yamlProblem(err error) Problem {
	var ye yaml.Error
	if errors.As(err, &ye) {
		p := Problem{Path: "$", Msg: ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			p.Line, p.Col = tk.Position.Line, tk.Position.Column
		}
		return p
	}
	return Problem{Path: "$", Msg: err.Error()}
}

// ProblemAt makes a Problem at a YAML path, with the position of the nearest node the file
// has there, or the name of the override that set it.
func (l *Loaded) ProblemAt(path, msg, hint string) Problem {
	p := Problem{Path: path, Msg: msg, Hint: hint}
	for at := path; at != ""; at = parentPath(at) {
		if origin, ok := l.origins[at]; ok {
			p.Msg += " (set by " + origin + ")"
			return p
		}
		if pos, ok := l.positions[at]; ok {
			p.Line, p.Col = pos[0], pos[1]
			return p
		}
	}
	return p
}

// parentPath strips the last element: $.a.b[2] → $.a.b → $.a → $ → "".
func parentPath(path string) string {
	if path == "$" {
		return ""
	}
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i > 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i > 0 {
		return path[:i]
	}
	return "$"
}

// Overrides lists the matrix keys set from outside the file, each with who set it, sorted.
func (l *Loaded) Overrides() []Override {
	out := make([]Override, 0, len(l.origins))
	for path, from := range l.origins {
		out = append(out, Override{Key: fieldName(path), From: from})
	}
	slices.SortFunc(out, func(a, b Override) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Override is one matrix key set from outside the file.
type Override struct {
	Key  string `json:"key"`
	From string `json:"from"`
}
