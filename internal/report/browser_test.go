//go:build linux

package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/report/charts"
)

// The browser test opens report.html from disk in headless Chromium with the network off
// (every host resolves to nothing, and a proxy that refuses connections), and checks what the
// page's own script publishes once it has drawn everything: no script error, no console
// message, every chart drawn with all its points or showing the note it should. It saves
// screenshots where LLMSCALE_ARTIFACTS says (default: the test's temporary folder) so CI can
// keep them. Without Chromium it skips. LLMSCALE_CHROMIUM names another Chromium binary.

// renderStatus is what the page publishes in #render-status.
type renderStatus struct {
	Done   bool     `json:"done"`
	Errors []string `json:"errors"`
	Charts []struct {
		ID     string `json:"id"`
		Points int    `json:"points"`
		Drawn  int    `json:"drawn"`
		Note   string `json:"note"`
	} `json:"charts"`
	Height int `json:"height"`
}

func chromiumBinary() string {
	if p := os.Getenv("LLMSCALE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser runs headless Chromium on one page with the network off.
type browser struct {
	bin, profile string
}

func (b browser) run(t *testing.T, url string, mode ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
		"--user-data-dir=" + b.profile,
		"--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
		"--enable-logging=stderr", "--v=0",
	}, mode...)
	cmd := exec.CommandContext(ctx, b.bin, append(args, url)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// Chromium starts helper processes: run it in its own process group and end the group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\nstderr:\n%s", mode, err, tail(errb.String(), 3000))
	}
	return out.String(), errb.String()
}

var (
	statusElement = regexp.MustCompile(`(?s)<pre id="render-status"[^>]*>(.*?)</pre>`)
	renderAttr    = regexp.MustCompile(`<html[^>]*\bdata-render="([a-z]+)"`)
	consoleLine   = regexp.MustCompile(`(?m)^.*:CONSOLE[:(].*$`)
)

// pageStatus loads the page, and returns what its script published and the DOM.
func (b browser) pageStatus(t *testing.T, url string) (renderStatus, string) {
	t.Helper()
	dom, stderr := b.run(t, url, "--dump-dom", "--window-size=1400,4000") // the screenshots' layout
	for _, line := range consoleLine.FindAllString(stderr, -1) {
		t.Errorf("console message: %s", line)
	}
	if m := renderAttr.FindStringSubmatch(dom); m == nil || m[1] != "ok" {
		t.Errorf("<html data-render> = %v, want ok", m)
	}
	m := statusElement.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no #render-status in the page:\n%s", tail(dom, 2000))
	}
	var st renderStatus
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &st); err != nil {
		t.Fatalf("render status %q: %v", m[1], err)
	}
	if !st.Done || len(st.Errors) > 0 {
		t.Errorf("page script: done=%v, errors=%q", st.Done, st.Errors)
	}
	return st, dom
}

// expectedCharts is every chart the page draws at first: the fixed ones, and the first group
// of each selector (or the group picked in the URL).
func expectedCharts(m charts.Model, timeline int) []charts.Chart {
	out := append([]charts.Chart{}, m.Scaling...)
	out = append(out, m.Efficiency, m.KarpFlatt, m.Pareto)
	out = append(out, m.Load...)
	if len(m.Latency) > 0 {
		out = append(out, m.Latency[0].Charts...)
	}
	if len(m.Timelines) > 0 {
		out = append(out, m.Timelines[timeline].Charts...)
	}
	return out
}

func checkCharts(t *testing.T, st renderStatus, want []charts.Chart) {
	t.Helper()
	got := map[string]int{}
	for i, c := range st.Charts {
		got[c.ID] = i
	}
	for _, w := range want {
		i, ok := got[w.ID]
		if !ok {
			t.Errorf("chart %s was not drawn", w.ID)
			continue
		}
		c := st.Charts[i]
		switch {
		case w.Note != "":
			if c.Note != w.Note {
				t.Errorf("chart %s shows note %q, want %q", w.ID, c.Note, w.Note)
			}
		case c.Points != pointCount(w) || c.Points == 0 || c.Drawn == 0:
			t.Errorf("chart %s: %d points drawn as %d SVG paths, want %d points", w.ID, c.Points, c.Drawn, pointCount(w))
		}
	}
	if len(st.Charts) != len(want) {
		t.Errorf("page drew %d charts, want %d", len(st.Charts), len(want))
	}
}

func pointCount(c charts.Chart) int {
	n := 0
	for _, s := range c.Series {
		for _, p := range s.Data {
			if p[1] == p[1] { // not NaN
				n++
			}
		}
	}
	return n
}

func TestBrowser(t *testing.T) {
	t.Parallel()
	bin := chromiumBinary()
	if bin == "" {
		t.Skip("headless browser test skipped: chromium is not installed (Debian: apt-get install chromium; or set LLMSCALE_CHROMIUM)")
	}
	d := loadFixture(t)
	dir := t.TempDir()
	page := filepath.Join(dir, ReportFile)
	var buf bytes.Buffer
	if err := Render(&buf, d, testOptions()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b := browser{bin: bin, profile: filepath.Join(dir, "profile")}
	url := "file://" + page
	m := charts.Build(d)

	st, _ := b.pageStatus(t, url)
	checkCharts(t, st, expectedCharts(m, 0))

	// The experiment without GPU telemetry, picked through the URL: its GPU chart says so.
	idx := -1
	for i, g := range m.Timelines {
		if g.Charts[2].Note == charts.NoTelemetry {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatal("fixture has no experiment without GPU telemetry")
	}
	st2, _ := b.pageStatus(t, fmt.Sprintf("%s?exp=%s", url, m.Timelines[idx].Key))
	checkCharts(t, st2, expectedCharts(m, idx))

	saveScreenshots(t, b, url, st.Height, "report")
	checkInjection(t, b, dir)
}

// TestBrowserBuilt opens the reports built from two real results trees: the simulator
// campaign of testdata/report/tree (a failed experiment, no GPU telemetry) and the 4×H100 tree
// (GPU telemetry, no request files). Each draws every chart it should, without a script
// error, and is saved as a screenshot.
func TestBrowserBuilt(t *testing.T) {
	t.Parallel()
	bin := chromiumBinary()
	if bin == "" {
		t.Skip("headless browser test skipped: chromium is not installed (Debian: apt-get install chromium; or set LLMSCALE_CHROMIUM)")
	}
	for _, tree := range []struct{ name, root string }{{"tree", treeDir}, {"h100", "../../testdata/h100/results"}} {
		t.Run(tree.name, func(t *testing.T) {
			t.Parallel()
			d, _ := buildFrom(t, tree.root)
			dir := t.TempDir()
			if err := Write(dir, d, testOptions()); err != nil {
				t.Fatal(err)
			}
			b := browser{bin: bin, profile: filepath.Join(dir, "profile")}
			url := "file://" + filepath.Join(dir, ReportFile)
			m := charts.Build(d)
			st, _ := b.pageStatus(t, url)
			checkCharts(t, st, expectedCharts(m, 0))
			saveScreenshots(t, b, url, st.Height, "report-"+tree.name)
		})
	}
}

// checkInjection opens a report whose every text tries to run script: none of it may run, and
// the page must still draw.
func checkInjection(t *testing.T, b browser, dir string) {
	t.Helper()
	const payload = `</script><script>document.documentElement.setAttribute("data-pwned","script")</script>` +
		`<img src=x onerror="document.documentElement.setAttribute('data-pwned','img')">{{.}}"'&`
	var buf bytes.Buffer
	if err := Render(&buf, hostileDataWith(t, payload), testOptions()); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "hostile.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, dom := b.pageStatus(t, "file://"+page) // renders, no errors
	if m := regexp.MustCompile(`<html[^>]*data-pwned="([a-z]+)"`).FindStringSubmatch(dom); m != nil {
		t.Errorf("injected script ran (through the %s payload)", m[1])
	}
}

// saveScreenshots saves name.png (1400×4000) and name-full.png (the whole page).
func saveScreenshots(t *testing.T, b browser, url string, height int, name string) {
	t.Helper()
	out := os.Getenv("LLMSCALE_ARTIFACTS")
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	shots := []struct{ name, size string }{
		{name + ".png", "1400,4000"},
		{name + "-full.png", fmt.Sprintf("1400,%d", min(max(height, 4000), 16000))},
	}
	for _, s := range shots {
		path := filepath.Join(out, s.name)
		b.run(t, url, "--screenshot="+path, "--window-size="+s.size)
		if fi, err := os.Stat(path); err != nil || fi.Size() < 10000 {
			t.Errorf("screenshot %s missing or nearly empty: %v", path, err)
			continue
		}
		checkPNG(t, path)
		t.Logf("screenshot: %s", path)
	}
	if strings.TrimSpace(out) != "" {
		t.Logf("artifacts in %s", out)
	}
}
