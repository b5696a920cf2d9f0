package compare

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/llmscale/llmscale/internal/scaling"
)

// WriteText writes the comparison as plain-text tables: the points, the fits, the verdicts,
// then what matched on one side only.
func WriteText(w io.Writer, res Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	writeHeader(tw, res)
	fmt.Fprintln(tw, "\nPOINT\tMETRIC\tA\tB\tCHANGE\tNOISE (±)\tVERDICT")
	for _, p := range res.Points {
		for _, c := range p.Changes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Label, c.Metric, num(c.A, c.NA > 0), num(c.B, c.NB > 0),
				changeText(c), noiseText(c), c.Verdict())
		}
	}
	writeFitsText(tw, res.Fits)
	writeVerdictsText(tw, res.Verdicts)
	writeOnly(tw, "A", res.OnlyA, res.Vary)
	writeOnly(tw, "B", res.OnlyB, res.Vary)
	return tw.Flush()
}

func writeHeader(w io.Writer, res Result) {
	for _, s := range []struct {
		name string
		c    Campaign
	}{{"A", res.A}, {"B", res.B}} {
		src := "agg/summary_metrics.parquet"
		if s.c.Aggregated {
			src = "raw/, aggregated in memory"
		}
		fmt.Fprintf(w, "%s: %s (%d experiments; %s)\n", s.name, s.c.Side.Arg, len(s.c.Rows), src)
	}
	fmt.Fprintf(w, "matched %d points on %s", len(res.Points), strings.Join(res.Keys, ","))
	if len(res.OnlyA)+len(res.OnlyB) > 0 {
		fmt.Fprintf(w, "; %d only in A, %d only in B", len(res.OnlyA), len(res.OnlyB))
	}
	fmt.Fprintf(w, "\nnoise: %.0f%% interval of the change: Welch's t over repeats where both sides have 2 or more, "+
		"else a bootstrap over requests (%d resamples), else unknown\n", res.Options.Confidence*100, res.Options.Resamples)
}

func writeFitsText(w io.Writer, fits []FitChange) {
	if len(fits) == 0 {
		return
	}
	fmt.Fprintln(w, "\nSERIES\tSERIAL s A\tSERIAL s B\tEFFICIENCY A\tEFFICIENCY B\tS BEYOND INTERVALS\tVERDICT A\tVERDICT B")
	for _, f := range fits {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Series, serialText(f.A), serialText(f.B),
			effText(f.A, f.CommonGPUs()), effText(f.B, f.CommonGPUs()), yesNo(f.SerialBeyond()), dash(f.VerdictA), dash(f.VerdictB))
	}
}

func writeVerdictsText(w io.Writer, vs []VerdictChange) {
	if len(vs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nPOINT\tBOTTLENECK A\tBOTTLENECK B\tCHANGED")
	for _, v := range vs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", v.Label, v.A, v.B, yesNo(v.Changed))
	}
}

func writeOnly(w io.Writer, side string, points []Point, vary []string) {
	for _, p := range points {
		fmt.Fprintf(w, "only in %s: %s (%s)\n", side, p.Label(vary), ids(p))
	}
}

func ids(p Point) string {
	var out []string
	for _, r := range append(p.A, p.B...) {
		out = append(out, r.ExpID)
	}
	return strings.Join(out, ", ")
}

// num writes a value with 4 significant digits, "-" when absent.
func num(v float64, ok bool) string {
	if !ok || math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func changeText(c Change) string {
	if !c.Comparable {
		return "-"
	}
	if math.IsNaN(c.Rel) {
		return fmt.Sprintf("%+.4g", c.Delta)
	}
	return fmt.Sprintf("%+.1f%%", c.Rel*100)
}

func noiseText(c Change) string {
	if !c.Comparable || math.IsNaN(c.Noise) {
		return "-"
	}
	if c.A != 0 {
		return fmt.Sprintf("%.1f%% (%s)", c.Noise/math.Abs(c.A)*100, c.Method)
	}
	return fmt.Sprintf("%.4g (%s)", c.Noise, c.Method)
}

func serialText(f *scaling.Fit) string {
	s, lo, hi, ok := Serial(f)
	if !ok {
		return "-"
	}
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return fmt.Sprintf("%.3f", s)
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", s, lo, hi)
}

func effText(f *scaling.Fit, limit int) string {
	e, n, ok := Efficiency(f, limit)
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.0f%% at %d GPUs", e*100, n)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
