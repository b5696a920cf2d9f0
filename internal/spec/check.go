package spec

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// Problem is one thing wrong with a matrix, at a place in the file (or in an override).
type Problem struct {
	Path string // YAML path such as $.factors.users[1]
	Line int    // 1-based; 0 when the value did not come from the file
	Col  int
	Msg  string
	Hint string // what would fix it; may be empty
}

func (p Problem) String() string {
	var b strings.Builder
	if field := fieldName(p.Path); field != "" {
		b.WriteString(field + ": ")
	}
	b.WriteString(p.Msg)
	if p.Hint != "" {
		b.WriteString(" (" + p.Hint + ")")
	}
	return b.String()
}

// fieldName turns $.factors.users[1] into factors.users[1].
func fieldName(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
}

// schemaChecker walks the YAML tree against the Go types and reports every unknown key and
// every value of the wrong kind, with its position, before anything is decoded. The decoder
// itself stops at the first error and names Go types; users get all problems in their terms.
type schemaChecker struct {
	problems  []Problem
	positions map[string][2]int // path → line, column of every node seen
	dropped   []string          // paths of values removed because they are wrong
	inFactors bool              // a factor needs at least one level; other lists may be empty
}

var (
	durationType = reflect.TypeFor[Duration]()
	levelType    = reflect.TypeFor[Level]()
	matchType    = reflect.TypeFor[Match]()
	factorsType  = reflect.TypeFor[Factors]()
)

func (c *schemaChecker) add(n ast.Node, msg, hint string) {
	line, col := nodePos(n)
	c.problems = append(c.problems, Problem{Path: n.GetPath(), Line: line, Col: col, Msg: msg, Hint: hint})
}

func nodePos(n ast.Node) (int, int) {
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line, tk.Position.Column
	}
	return 0, 0
}

// unwrap looks through anchors and tags to the value they carry.
func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

// check reports what is wrong with n against t and tells whether n can be kept. A struct or
// map drops its bad entries itself, so the rest of the file can still be decoded and checked
// for semantic problems; anything else that is wrong is dropped whole by its parent.
func (c *schemaChecker) check(n ast.Node, t reflect.Type) bool {
	n = unwrap(n)
	if n == nil {
		return true
	}
	line, col := nodePos(n)
	c.positions[n.GetPath()] = [2]int{line, col}
	if _, ok := n.(*ast.AliasNode); ok {
		return true // checked where the anchor is
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if _, ok := n.(*ast.NullNode); ok {
		if c.inFactors && (t.Kind() == reflect.Slice || t.Kind() == reflect.Map) {
			c.add(n, "is empty", "give at least one level or remove the factor")
			return false
		}
		return true
	}
	switch {
	case t == durationType:
		return c.checkDuration(n)
	case t == levelType:
		return c.checkScalar(n)
	case t == matchType:
		return c.checkMatch(n)
	case t.Kind() == reflect.Struct:
		return c.checkStruct(n, t)
	case t.Kind() == reflect.Slice:
		return c.checkSlice(n, t)
	case t.Kind() == reflect.Map:
		return c.checkMap(n, t)
	}
	return c.checkKind(n, t.Kind())
}

// keep drops the entries of m whose index is marked bad, and remembers their paths.
func (c *schemaChecker) keep(m *ast.MappingNode, bad map[int]bool) {
	if len(bad) == 0 {
		return
	}
	kept := m.Values[:0]
	for i, kv := range m.Values {
		if bad[i] {
			c.dropped = append(c.dropped, kv.Value.GetPath())
			continue
		}
		kept = append(kept, kv)
	}
	m.Values = kept
}

func (c *schemaChecker) checkStruct(n ast.Node, t reflect.Type) bool {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		c.add(n, "want a map of settings, got "+describe(n), "")
		return false
	}
	if t == factorsType {
		c.inFactors = true
		defer func() { c.inFactors = false }()
	}
	fields := yamlFields(t)
	seen := map[string]bool{}
	bad := map[int]bool{}
	for i, kv := range m.Values {
		key := keyText(kv.Key)
		f, ok := fields[key]
		switch {
		case !ok:
			c.add(kv.Key, fmt.Sprintf("unknown key %q", key), suggest(key, fields))
			bad[i] = true
		case seen[key]:
			c.add(kv.Key, fmt.Sprintf("key %q is given twice", key), "keep one")
			bad[i] = true
		default:
			bad[i] = !c.check(kv.Value, f.Type)
		}
		seen[key] = true
	}
	c.keep(m, bad)
	return true
}

func (c *schemaChecker) checkSlice(n ast.Node, t reflect.Type) bool {
	s, ok := n.(*ast.SequenceNode)
	if !ok {
		c.add(n, "want a list, got "+describe(n), "write the levels in brackets, e.g. [1, 2, 4]")
		return false
	}
	if len(s.Values) == 0 && c.inFactors {
		c.add(n, "is empty", "give at least one level or remove the factor")
		return false
	}
	good := true
	for _, v := range s.Values {
		good = c.check(v, t.Elem()) && good
	}
	return good
}

func (c *schemaChecker) checkMap(n ast.Node, t reflect.Type) bool {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		c.add(n, "want a map, got "+describe(n), "")
		return false
	}
	bad := map[int]bool{}
	for i, kv := range m.Values {
		bad[i] = !c.check(kv.Value, t.Elem())
	}
	c.keep(m, bad)
	return true
}

func (c *schemaChecker) checkDuration(n ast.Node) bool {
	switch v := n.(type) {
	case *ast.StringNode:
		if _, err := parseDuration(v.Value); err != nil {
			c.add(n, err.Error(), "")
			return false
		}
	case *ast.IntegerNode:
		if fmt.Sprint(v.Value) != "0" {
			c.add(n, "a duration needs a unit", fmt.Sprintf("write %vs or %vm", v.Value, v.Value))
			return false
		}
	default:
		c.add(n, "want a duration such as 90s or 3m, got "+describe(n), "")
		return false
	}
	return true
}

func (c *schemaChecker) checkScalar(n ast.Node) bool {
	switch n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.LiteralNode:
		return true
	}
	c.add(n, "want a single value, got "+describe(n), "")
	return false
}

func (c *schemaChecker) checkMatch(n ast.Node) bool {
	switch v := n.(type) {
	case *ast.StringNode:
		return true
	case *ast.MappingNode:
		good := true
		for _, kv := range v.Values {
			val := unwrap(kv.Value)
			if s, ok := val.(*ast.SequenceNode); ok {
				for _, e := range s.Values {
					good = c.checkScalar(unwrap(e)) && good
				}
				continue
			}
			good = c.checkScalar(val) && good
		}
		return good
	}
	c.add(n, "want an expression or a map of factor: level, got "+describe(n),
		"e.g. {prompts: long, users: 200} or \"tp == 8 && users < 50\"")
	return false
}

func (c *schemaChecker) checkKind(n ast.Node, k reflect.Kind) bool {
	ok := false
	want := k.String()
	switch k {
	case reflect.Int, reflect.Int64:
		_, ok = n.(*ast.IntegerNode)
		want = "a whole number"
	case reflect.Float64:
		switch n.(type) {
		case *ast.IntegerNode, *ast.FloatNode:
			ok = true
		}
		want = "a number"
	case reflect.Bool:
		_, ok = n.(*ast.BoolNode)
		want = "true or false"
	case reflect.String:
		switch n.(type) {
		case *ast.StringNode, *ast.LiteralNode:
			ok = true
		}
		want = "text"
	}
	if !ok {
		hint := ""
		if m, isMap := n.(*ast.MappingNode); isMap && m.IsFlowStyle && k == reflect.String {
			hint = `inside [ ] a value with a colon reads as a map: quote it, e.g. ["random:1024:128"]`
		}
		c.add(n, fmt.Sprintf("want %s, got %s", want, describe(n)), hint)
	}
	return ok
}

// describe names what the user wrote, in their terms.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case *ast.StringNode:
		return "text " + Excerpt(v.Value)
	case *ast.IntegerNode:
		return fmt.Sprintf("the number %v", v.Value)
	case *ast.FloatNode:
		return fmt.Sprintf("the number %v", v.Value)
	case *ast.BoolNode:
		return fmt.Sprintf("%v", v.Value)
	case *ast.SequenceNode:
		return "a list"
	case *ast.MappingNode:
		return "a map"
	case *ast.NullNode:
		return "nothing"
	}
	return strings.ToLower(n.Type().String())
}

func keyText(k ast.MapKeyNode) string {
	if s, ok := unwrap(k).(*ast.StringNode); ok {
		return s.Value
	}
	return k.String()
}

// yamlFields maps yaml keys to struct fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = f
	}
	return out
}

// suggest proposes the closest known key for a typo.
func suggest(key string, fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestDist := "", 1<<30
	for _, name := range names {
		if d := EditDistance(strings.ToLower(key), name); d < bestDist {
			best, bestDist = name, d
		}
	}
	if bestDist <= max(2, len(key)/3) {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "known keys: " + strings.Join(names, ", ")
}

// EditDistance is the Levenshtein distance between a and b (for "did you mean" hints).
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
