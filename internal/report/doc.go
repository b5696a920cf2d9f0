// Package report draws a campaign's report from a reportdata.Data value — the scaling series
// and their fits, every experiment's measurements, diagnosis and time series. It has three
// parts, each in its own files:
//
//   - the chart model (chart.go, charts_*.go): what every chart draws, built once from Data
//     by buildCharts; both forms below draw it and nothing else;
//   - the HTML page (render.go, view.go, answer.go, format.go, assets/): Render writes one
//     self-contained file, the charts drawn in the browser by Apache ECharts;
//   - the static figures (figures.go, plot.go): WriteFigures draws the main charts with
//     gonum/plot as SVG and PNG files;
//
// Write (write.go) writes the page and the figures into a results tree. The package reads no
// results file: package resultstree reads the tree into Data.
//
// The HTML embeds its CSS, its script and Apache ECharts (assets/echarts, Apache License 2.0,
// notice kept in the page's footer): it loads nothing from the network. Chart data is built in
// Go and embedded as JSON; every text from a results file goes through html/template's
// escaping or encoding/json's, so nothing in a prompt, a log or a model name can run as script.
package report
