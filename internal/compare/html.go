package compare

import (
	_ "embed"
	"html/template"
	"io"
	"math"
)

//go:embed compare.html.tmpl
var pageTemplate string

// htmlChange is one cell row of the page.
type htmlChange struct {
	Change
	Class                         string // better, worse, same, unknown
	AText, BText, Rel, Noise, Say string
}

type htmlPoint struct {
	Label   string
	Changes []htmlChange
}

type htmlFit struct {
	FitChange
	SA, SB, EA, EB, Beyond string
}

type htmlPage struct {
	Res      Result
	Points   []htmlPoint
	Fits     []htmlFit
	Checks   *ThresholdReport
	Header   string
	OnlyText []string
}

// WriteHTML writes the comparison as one self-contained HTML page (no script, no external
// file): a table per point with better/worse colouring, the fits, the verdicts and the
// outcome of the thresholds (nil when none were given).
func WriteHTML(w io.Writer, res Result, checks *ThresholdReport) error {
	tmpl, err := template.New("compare").Funcs(template.FuncMap{"mul100": func(v float64) float64 { return v * 100 }}).Parse(pageTemplate)
	if err != nil {
		return err
	}
	return tmpl.Execute(w, pageOf(res, checks))
}

func pageOf(res Result, checks *ThresholdReport) htmlPage {
	pg := htmlPage{Res: res, Checks: checks}
	for _, p := range res.Points {
		hp := htmlPoint{Label: p.Label}
		for _, c := range p.Changes {
			hp.Changes = append(hp.Changes, htmlChange{Change: c, Class: classOf(c), AText: num(c.A, c.NA > 0),
				BText: num(c.B, c.NB > 0), Rel: changeText(c), Noise: noiseText(c), Say: c.Verdict()})
		}
		pg.Points = append(pg.Points, hp)
	}
	for _, f := range res.Fits {
		pg.Fits = append(pg.Fits, htmlFit{FitChange: f, SA: serialText(f.A), SB: serialText(f.B),
			EA: effText(f.A, f.CommonGPUs()), EB: effText(f.B, f.CommonGPUs()), Beyond: yesNo(f.SerialBeyond())})
	}
	for _, p := range res.OnlyA {
		pg.OnlyText = append(pg.OnlyText, "only in A: "+p.Label(res.Vary)+" ("+ids(p)+")")
	}
	for _, p := range res.OnlyB {
		pg.OnlyText = append(pg.OnlyText, "only in B: "+p.Label(res.Vary)+" ("+ids(p)+")")
	}
	return pg
}

func classOf(c Change) string {
	switch v := c.Verdict(); v {
	case "better", "worse":
		return v
	case "within noise", "same":
		return "same"
	}
	if c.Comparable && !math.IsNaN(c.Rel) {
		return "unknown"
	}
	return "na"
}
