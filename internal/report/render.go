package report

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/llmscale/llmscale/internal/report/charts"
	"github.com/llmscale/llmscale/internal/report/format"
	"github.com/llmscale/llmscale/internal/reportdata"
)

//go:embed assets/report.html.tmpl assets/report.css assets/hook.js assets/app.js
//go:embed assets/echarts/echarts.min.js assets/echarts/LICENSE assets/echarts/NOTICE
var assets embed.FS

// EChartsVersion is the version of the embedded Apache ECharts.
const EChartsVersion = "5.6.0"

// Options tune rendering.
type Options struct {
	// GeneratedAt is printed in the footer; the zero time prints as "–" (tests inject a
	// fixed time so golden files stay stable).
	GeneratedAt time.Time
	// Generator names the tool and its version, e.g. "llmscale v0.3.0 (abc1234)"; empty
	// means "llmscale".
	Generator string
}

// Render writes the report of d as one self-contained HTML document.
func Render(w io.Writer, d reportdata.Data, opts Options) error {
	tmpl, err := parseTemplate()
	if err != nil {
		return err
	}
	v, err := buildView(d, opts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func parseTemplate() (*template.Template, error) {
	text, err := assets.ReadFile("assets/report.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("read report template: %w", err)
	}
	t, err := template.New("report").Parse(string(text))
	if err != nil {
		return nil, fmt.Errorf("parse report template: %w", err)
	}
	return t, nil
}

// view is what the template shows.
type view struct {
	Title, Generator, GeneratedAt string
	Headline                      string
	Subtitle                      []string
	Stats, Facts                  []reportdata.NameValue
	Campaign                      reportdata.Campaign
	Answers                       []answer
	FailedNote                    string
	Charts                        charts.Model
	TimelineInfo                  []verdictView
	Diagnosis                     []diagRow
	LatencyCols                   []string
	Measurements                  []measureRow
	Failed                        []failedRow

	CSS                           template.CSS
	Hook, ECharts, App, ChartJSON template.JS
	EChartsVersion                string
	EChartsNotice, EChartsLicense string
}

func buildView(d reportdata.Data, opts Options) (view, error) {
	model := charts.Build(d)
	js, err := chartJSON(model)
	if err != nil {
		return view{}, err
	}
	v := view{
		Title: title(d.Campaign), Generator: opts.Generator, GeneratedAt: format.Time(opts.GeneratedAt),
		Subtitle: subtitle(d.Campaign), Stats: stats(d), Facts: facts(d.Campaign),
		Campaign: d.Campaign, Headline: headline(d.Series), Answers: answers(d.Series), FailedNote: failedNote(d.Experiments),
		Charts: model, ChartJSON: template.JS(js), // safe: encoding/json escapes <, >, &
		TimelineInfo: timelineInfo(d.Experiments, model.Timelines),
		Diagnosis:    diagnosisRows(d.Experiments, model.Timelines),
		LatencyCols:  []string{"TTFT", "TPOT", "ITL", "E2E"},
		Measurements: measurementRows(d.Experiments), Failed: failedRows(d.Experiments),
		EChartsVersion: EChartsVersion,
	}
	if v.Generator == "" {
		v.Generator = "llmscale"
	}
	return v, v.loadAssets()
}

// loadAssets reads the embedded CSS, scripts and licence texts into the view.
func (v *view) loadAssets() error {
	read := func(name string) (string, error) {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			return "", fmt.Errorf("read embedded %s: %w", name, err)
		}
		return string(b), nil
	}
	var files [6]string
	for i, name := range []string{"report.css", "hook.js", "echarts/echarts.min.js", "app.js", "echarts/NOTICE", "echarts/LICENSE"} {
		s, err := read(name)
		if err != nil {
			return err
		}
		files[i] = s
	}
	v.CSS, v.Hook, v.ECharts, v.App = template.CSS(files[0]), template.JS(files[1]), template.JS(files[2]), template.JS(files[3])
	v.EChartsNotice, v.EChartsLicense = files[4], files[5]
	return nil
}

// chartJSON encodes the model for the page. encoding/json escapes <, > and & as \u003c,
// \u003e and \u0026 (and U+2028/U+2029), so no text from a results file can close the script
// element it is embedded in.
func chartJSON(m charts.Model) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode chart data: %w", err)
	}
	return b, nil
}
