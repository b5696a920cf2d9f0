package diagnose

import (
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/scaling"
)

// Files written under results/agg/.
const (
	CSVFile  = "diagnosis.csv"
	JSONFile = "diagnosis.json"
)

// Diagnosis is every verdict of a campaign: diagnosis.json.
type Diagnosis struct {
	Experiments []ExperimentDiagnosis `json:"experiments"`
	Series      []SeriesDiagnosis     `json:"series"`
	Thresholds  map[string]float64    `json:"thresholds"`
}

// All runs both stages: the experiment rules on every row, then the series rules on every
// fitted series.
func All(rows []aggregate.Row, fits []scaling.Fit) Diagnosis {
	return SeriesStage(rows, Experiments(rows), fits)
}

// SeriesVerdict returns the verdict of the named series.
func (d Diagnosis) SeriesVerdict(name string) (Verdict, bool) {
	for _, s := range d.Series {
		if s.Series == name {
			return s.Verdict, true
		}
	}
	return Verdict{}, false
}

// Row is one row of diagnosis.csv: the verdict on one experiment or one series.
type Row struct {
	Kind            string `parquet:"kind"`    // experiment | series
	Subject         string `parquet:"subject"` // exp_id or series name
	Status          string `parquet:"status"`  // the experiment's status; the fit's for a series
	Verdict         string `parquet:"verdict"`
	Label           string `parquet:"label"`
	Sentence        string `parquet:"sentence"`
	Saturated       string `parquet:"saturated"` // true | false; empty for a series
	SaturatedReason string `parquet:"saturated_reason"`
	Evidence        string `parquet:"evidence"` // "name = value (threshold: yes|no)" joined by " | "
	Missing         string `parquet:"missing_evidence"`
	Also            string `parquet:"also"`
	Margin          string `parquet:"margin"`  // the verdict's margin, "+12%"; empty when it has none
	Close           string `parquet:"close"`   // rules near or past their thresholds too, with margins
	Suspect         string `parquet:"suspect"` // experiments only: why the measurement is suspect
}

// Rows lays the diagnosis out as the rows of diagnosis.csv: experiments, then series.
func (d Diagnosis) Rows() []Row {
	var out []Row
	for _, e := range d.Experiments {
		r := verdictRow("experiment", e.ExpID, e.Status, e.Verdict)
		r.Saturated, r.SaturatedReason, r.Suspect = strconv.FormatBool(e.Saturated), e.SaturatedReason, e.Suspect
		out = append(out, r)
	}
	for _, s := range d.Series {
		out = append(out, verdictRow("series", s.Series, s.Status, s.Verdict))
	}
	return out
}

func verdictRow(kind, subject, status string, v Verdict) Row {
	ev := make([]string, len(v.Evidence))
	for i, e := range v.Evidence {
		ev[i] = e.String()
	}
	r := Row{Kind: kind, Subject: subject, Status: status, Verdict: v.Code, Label: v.Label, Sentence: v.Sentence,
		Evidence: strings.Join(ev, " | "), Missing: strings.Join(v.Missing, "; "), Also: strings.Join(v.Also, ";"),
		Close: strings.Join(v.Close, ";")}
	if v.Margin != nil {
		r.Margin = signedPct(*v.Margin)
	}
	return r
}

// Write writes diagnosis.csv and diagnosis.json to dir, each atomically.
func Write(dir string, d Diagnosis) error {
	if err := results.WriteAtomic(filepath.Join(dir, CSVFile), func(w io.Writer) error {
		return results.WriteCSV(w, d.Rows())
	}); err != nil {
		return err
	}
	return results.WriteJSON(filepath.Join(dir, JSONFile), d)
}

// Read reads diagnosis.json from dir.
func Read(dir string) (Diagnosis, error) {
	var d Diagnosis
	err := results.ReadJSON(filepath.Join(dir, JSONFile), &d)
	return d, err
}
