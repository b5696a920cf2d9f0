package analysis

import (
	"regexp"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/diagnose"
)

var codeSpan = regexp.MustCompile("`([a-z_]+)`")

// documentedVerdicts reads the verdict codes of the "### title" table of docs/analysis.md:
// the codes of each row's first cell; a row whose first cell names none ("the top point's
// verdict") contributes the known verdict codes of its rule cell.
func documentedVerdicts(t *testing.T, title string) []string {
	t.Helper()
	text := section(t, "../../docs/analysis.md", "Bottleneck diagnosis")
	start := strings.Index(text, "\n### "+title+"\n")
	if start < 0 {
		t.Fatalf("docs/analysis.md has no section %q", title)
	}
	text = text[start+1:]
	if end := strings.Index(text, "\n### "); end >= 0 {
		text = text[:end]
	}
	var codes []string
	inTable := false
	for line := range strings.SplitSeq(text, "\n") {
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break // the first table only
			}
			continue
		}
		inTable = true
		cells := strings.Split(line, "|")
		if len(cells) < 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "code" {
			continue
		}
		found := codeSpan.FindAllStringSubmatch(cells[1], -1)
		known := false
		if len(found) == 0 {
			found, known = codeSpan.FindAllStringSubmatch(cells[2], -1), true
		}
		for _, m := range found {
			if known && diagnose.Label(m[1]) == m[1] {
				continue // a column name, not a verdict
			}
			codes = appendNew(codes, m[1])
		}
	}
	if len(codes) == 0 {
		t.Fatalf("docs/analysis.md, %s: no verdict codes found in its table", title)
	}
	return codes
}

func appendNew(dst []string, v ...string) []string {
	for _, s := range v {
		if !strings.Contains(" "+strings.Join(dst, " ")+" ", " "+s+" ") {
			dst = append(dst, s)
		}
	}
	return dst
}

// TestEveryVerdictHasASimulatorConfig: each verdict that docs/analysis.md lists, for
// experiments and for series, has a simulator configuration in experimentCases or
// seriesCases that must produce it; and every verdict those produce is documented.
func TestEveryVerdictHasASimulatorConfig(t *testing.T) {
	t.Parallel()
	expWants := map[string]bool{}
	for _, c := range experimentCases(t) {
		expWants[c.want] = true
	}
	seriesWants := map[string]bool{}
	for _, c := range seriesCases(t) {
		for _, code := range c.want {
			seriesWants[code] = true
		}
	}
	for _, level := range []struct {
		title, cases string
		wants        map[string]bool
	}{
		{"Experiment verdicts", "experimentCases (verdict_test.go)", expWants},
		{"Series verdicts", "seriesCases (series_test.go)", seriesWants},
	} {
		docs := documentedVerdicts(t, level.title)
		t.Logf("%s: %v", level.title, docs)
		for _, code := range docs {
			if !level.wants[code] {
				t.Errorf("docs/analysis.md, %s: %s has no simulator configuration in %s that produces it; add one",
					level.title, code, level.cases)
			}
		}
		for code := range level.wants {
			if !strings.Contains(" "+strings.Join(docs, " ")+" ", " "+code+" ") {
				t.Errorf("%s produces %s, which docs/analysis.md (%s) does not list", level.cases, code, level.title)
			}
		}
	}
}

// checkMargins: every numeric piece of evidence weighed against a threshold carries its
// margin, and a verdict that rests on such evidence carries its own (the shape of the fit,
// added to every series verdict, is not what a rule rests on; unknown rests on nothing).
func checkMargins(t *testing.T, v diagnose.Verdict) {
	t.Helper()
	held := false
	for _, e := range v.Evidence {
		numeric := e.Value != nil && strings.ContainsAny(e.Threshold[:min(len(e.Threshold), 3)], "≥≤<>") &&
			!strings.HasSuffix(e.Threshold, " 0")
		if numeric && e.Margin == nil {
			t.Errorf("%s: evidence %q (%s) has no margin", v.Code, e.Name, e.Threshold)
		}
		fitShape := e.Column == "s" || e.Column == "karp_flatt_trend" || (e.Column == "efficiency_at_top" && strings.HasPrefix(e.Threshold, "<"))
		held = held || (e.Holds && e.Margin != nil && !fitShape)
	}
	if held && v.Margin == nil && v.Code != diagnose.CodeUnknown && v.Code != diagnose.CodeFailed {
		t.Errorf("%s: the verdict rests on evidence with margins but has none of its own: %v", v.Code, v.Evidence)
	}
}
