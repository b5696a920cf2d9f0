package spec

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
)

// Limits of a matrix file, checked before its YAML is decoded: a matrix is a page of
// settings, and input far beyond that (a generated file gone wrong, the wrong file, an alias
// bomb) must fail at once with a clear message, not take gigabytes and minutes.
const (
	MaxMatrixBytes = 1 << 20 // file size
	MaxDepth       = 64      // nesting of maps and lists
	MaxExpanded    = 100_000 // YAML nodes once every alias is expanded
	excerptRunes   = 40      // at most this much of a bad value is quoted back
)

// preCheck refuses a file too large or nested too deep before the YAML parser sees it. Depth
// is counted on the text: indentation and open brackets, an upper bound of the real nesting.
func preCheck(data []byte) []Problem {
	if len(data) > MaxMatrixBytes {
		return []Problem{{Path: "$", Msg: fmt.Sprintf("is %d bytes, over the limit of %d", len(data), MaxMatrixBytes),
			Hint: "a matrix is a page of settings: is this the right file?"}}
	}
	if !utf8.Valid(data) {
		return []Problem{{Path: "$", Msg: "is not UTF-8 text", Hint: "is this the right file? save it as UTF-8"}}
	}
	for i, line := range strings.Split(string(data), "\n") {
		if d := lineDepth(line); d > MaxDepth {
			return []Problem{{Path: "$", Line: i + 1, Col: 1, Msg: fmt.Sprintf("nests deeper than %d levels: %s", MaxDepth, Excerpt(line)),
				Hint: "a matrix needs a few levels of maps and lists"}}
		}
	}
	return nil
}

// lineDepth bounds the nesting one line reaches: its indentation (a block level needs at
// least one column; two are counted, a bound that leaves room for odd layouts), its leading "- " sequence markers and its open flow brackets outside quotes.
func lineDepth(line string) int {
	trimmed := strings.TrimLeft(line, " ")
	depth := (len(line) - len(trimmed)) / 2 // two columns a level, as every example writes it
	for strings.HasPrefix(trimmed, "- ") {
		depth++
		trimmed = strings.TrimLeft(trimmed[2:], " ")
	}
	open, quote := 0, rune(0)
	for _, r := range trimmed {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '#':
			return depth + open
		case r == '[' || r == '{':
			open++
			depth = max(depth, open)
		case r == ']' || r == '}':
			open--
		}
	}
	return max(depth, open)
}

// checkExpansion refuses aliases that would expand to more than MaxExpanded nodes (the
// "billion laughs": each anchor repeating the one before).
func checkExpansion(root ast.Node) []Problem {
	anchors := map[string]ast.Node{}
	ast.Walk(visitorFunc(func(n ast.Node) {
		if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil {
			anchors[a.Name.String()] = a.Value
		}
	}), root)
	memo := map[string]int{}
	total := expandedSize(root, anchors, memo, 0)
	if total > MaxExpanded {
		return []Problem{{Path: "$", Msg: fmt.Sprintf("its aliases expand to more than %d values", MaxExpanded),
			Hint: "use anchors (&name) and aliases (*name) to share a few settings, not to multiply them"}}
	}
	return nil
}

// expandedSize counts the nodes under n with every alias replaced by its anchor's value,
// stopping early once over the limit.
func expandedSize(n ast.Node, anchors map[string]ast.Node, memo map[string]int, depth int) int {
	if n == nil || depth > MaxDepth {
		return MaxExpanded + 1
	}
	total := 0
	ast.Walk(visitorFunc(func(c ast.Node) {
		if total > MaxExpanded {
			return
		}
		total++
		alias, ok := c.(*ast.AliasNode)
		if !ok || alias.Value == nil {
			return
		}
		name := alias.Value.String()
		size, seen := memo[name]
		if !seen {
			memo[name] = MaxExpanded + 1 // an alias inside its own anchor expands without end
			size = expandedSize(anchors[name], anchors, memo, depth+1)
			memo[name] = size
		}
		total += size
	}), n)
	return total
}

type visitorFunc func(ast.Node)

func (f visitorFunc) Visit(n ast.Node) ast.Visitor {
	if n != nil {
		f(n)
	}
	return f
}

// Excerpt quotes at most a short piece of text a user gave, so that a wrong file (binary,
// a huge line) is named in a message without flooding the terminal.
func Excerpt(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= excerptRunes {
		return fmt.Sprintf("%q", s)
	}
	r := []rune(s)
	return fmt.Sprintf("%q… (%d more characters)", string(r[:excerptRunes]), len(r)-excerptRunes)
}
