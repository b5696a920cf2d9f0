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
		if p.Line > 0 {
			fmt.Fprintf(&b, "\n  %s:%d:%d: %s", e.File, p.Line, p.Col, p)
		} else {
			fmt.Fprintf(&b, "\n  %s: %s", e.File, p)
		}
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
// matrix start from. When the file could be decoded, the spec is returned even with problems,
// so callers can look for more of them (matrix.PlanFile checks the rules too).
func Parse(data []byte, name, dir string, overlays ...Overlay) (*Loaded, error) {
	sum := sha256.Sum256(data)
	l := &Loaded{File: name, Hash: hex.EncodeToString(sum[:]), Source: data,
		positions: map[string][2]int{}, origins: map[string]string{}}
	l.Dir = dir
	problems, dropped, ok := l.decode(data)
	if !ok {
		return nil, &Error{File: name, Problems: problems}
	}
	for _, o := range overlays {
		problems = append(problems, l.apply(o)...)
	}
	l.applyDefaults(name, l.sets)
	for _, p := range l.Validate() {
		if !underAny(p.Path, dropped) {
			problems = append(problems, p)
		}
	}
	return l, l.Errorf(problems)
}

// Errorf wraps problems into an *Error sorted by position, or returns nil when there are none.
func (l *Loaded) Errorf(problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	slices.SortStableFunc(problems, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return &Error{File: l.File, Problems: problems}
}

// underAny tells whether path is one of roots or inside one.
func underAny(path string, roots []string) bool {
	for _, r := range roots {
		if path == r || strings.HasPrefix(path, r+".") || strings.HasPrefix(path, r+"[") {
			return true
		}
	}
	return false
}

// decode checks the YAML against the schema, drops what is wrong, and decodes the rest. ok is
// false when nothing usable could be decoded.
func (l *Loaded) decode(data []byte) (problems []Problem, dropped []string, ok bool) {
	if len(bytes.TrimSpace(data)) == 0 {
		return []Problem{{Path: "$", Msg: "the file is empty", Hint: "start from config/experiment_matrix.yaml"}}, nil, false
	}
	if p := preCheck(data); len(p) > 0 {
		return p, nil, false
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return []Problem{yamlProblem(err)}, nil, false
	}
	for _, doc := range file.Docs {
		if p := checkExpansion(doc); len(p) > 0 {
			return p, nil, false
		}
	}
	if len(file.Docs) != 1 {
		return []Problem{{Path: "$", Msg: fmt.Sprintf("holds %d YAML documents", len(file.Docs)), Hint: "keep one"}}, nil, false
	}
	body := file.Docs[0].Body
	if _, isMap := unwrap(body).(*ast.MappingNode); !isMap {
		line, col := 0, 0
		what := "nothing"
		if body != nil {
			line, col = nodePos(body)
			what = describe(unwrap(body))
		}
		return []Problem{{Path: "$", Line: line, Col: col, Msg: "want a map of settings at the top, got " + what}}, nil, false
	}
	c := schemaChecker{positions: l.positions}
	c.check(body, reflect.TypeFor[Spec]())
	if err := yaml.NodeToValue(body, &l.Spec); err != nil {
		return append(c.problems, yamlProblem(err)), c.dropped, false
	}
	return c.problems, c.dropped, true
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
	// An override replaces the file's value at its key and below, so it is looked for first:
	// the file may still have a node at the exact path, which is not the value at fault.
	for at := path; at != "" && at != "$"; at = parentPath(at) {
		if origin, ok := l.origins[at]; ok {
			p.Msg += " (set by " + origin + ")"
			return p
		}
	}
	for at := path; at != "" && at != "$"; at = parentPath(at) {
		if pos, ok := l.positions[at]; ok {
			p.Line, p.Col = pos[0], pos[1]
			return p
		}
	}
	return p
}

// sets tells whether the file or an override gives a value at path.
func (l *Loaded) sets(path string) bool {
	_, inFile := l.positions[path]
	_, overridden := l.origins[path]
	return inFile || overridden
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
