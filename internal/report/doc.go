// Package report writes a campaign's report from a reportdata.Data value — the scaling
// series and their fits, every experiment's measurements, diagnosis and time series — as one
// self-contained HTML page (Render: render.go, view.go, answer.go, assets/). Write puts the
// page and the static figures into a results tree (write.go).
//
// Its subpackages: charts describes every chart as plain data, built once from Data (the page
// embeds the descriptions, its script draws them with Apache ECharts); figures draws the same
// descriptions as SVG and PNG with gonum/plot; format writes numbers for people. None of them
// reads a results file: package resultstree reads the tree into Data.
//
// The HTML embeds its CSS, its script and Apache ECharts (assets/echarts, Apache License 2.0,
// notice kept in the page's footer): it loads nothing from the network. Chart data is built in
// Go and embedded as JSON; every text from a results file goes through html/template's
// escaping or encoding/json's, so nothing in a prompt, a log or a model name can run as script.
package report
