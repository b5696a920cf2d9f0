// Draws the report's charts from the JSON in #chart-data (built in Go: axes, lines, marks) with
// Apache ECharts, then publishes what it drew in #render-status and <html data-render>.
// Text from the data reaches the page only as chart text (SVG text nodes), textContent, or
// through esc() in tooltips: never as HTML.
(function () {
  "use strict";
  var st = window.__llmscale || { errors: [], charts: [] };
  var FONT = '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif';
  var INK = "#1F2937", MUTED = "#6B7280", GRID = "#E5E7EB", AXIS = "#9CA3AF";
  var model = { scaling: [], latency: [], load: [], timelines: [] };
  var instances = [];

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function tidy(x, d) { return String(+x.toFixed(d)); }
  // Axis labels: short (12k, 1.5M) so the axis titles keep their place.
  function tick(v) {
    if (v === null || v === undefined || isNaN(v)) return "";
    var a = Math.abs(v);
    if (a >= 1e6) return tidy(v / 1e6, 1) + "M";
    if (a >= 1e4) return tidy(v / 1e3, 0) + "k";
    if (a >= 1e3) return tidy(v / 1e3, 1) + "k";
    if (a === 0) return "0";
    return String(+v.toPrecision(3));
  }
  function num(v) {
    if (v === null || v === undefined || isNaN(v)) return "–";
    if (Math.abs(v) >= 100) return Math.round(v).toLocaleString("en-US");
    return String(+v.toPrecision(3));
  }
  function pct(v) { return Math.round(v * 100) + "%"; }

  function axisOption(ax, isX, right) {
    var o = {
      type: ax.log ? "log" : "value",
      name: ax.name, nameLocation: "middle", nameGap: isX ? 30 : 48,
      nameTextStyle: { color: INK, fontSize: 12, fontFamily: FONT },
      axisLine: { show: true, lineStyle: { color: AXIS } },
      axisTick: { show: true, lineStyle: { color: AXIS } },
      axisLabel: { color: MUTED, fontSize: 11, fontFamily: FONT, hideOverlap: true,
        formatter: ax.percent ? pct : tick },
      splitLine: { show: !right, lineStyle: { color: GRID } }
    };
    if (ax.log) o.logBase = ax.log;
    if (ax.min !== undefined && ax.min !== null) o.min = ax.min;
    if (ax.max !== undefined && ax.max !== null) o.max = ax.max;
    if (ax.integer) o.minInterval = 1;
    if (ax.min === undefined || ax.min === null) o.scale = true; // do not force zero in
    if (right) { o.position = "right"; o.nameRotate = 270; }
    return o;
  }

  function points(s) {
    return s.data.map(function (p, i) {
      return s.names && s.names[i] ? { value: p, name: s.names[i] } : p;
    });
  }

  function seriesOption(s) {
    var curve = s.kind === "curve" || s.kind === "step";
    var o = {
      name: s.name, type: s.kind === "scatter" ? "scatter" : "line",
      yAxisIndex: s.axis || 0, data: points(s), connectNulls: false,
      itemStyle: { color: s.color },
      lineStyle: { color: s.color, width: curve ? 2 : 2.5, type: s.dash || "solid" },
      symbol: curve ? "none" : "circle", symbolSize: s.kind === "scatter" ? 9 : 7,
      emphasis: { focus: "series" }, z: curve ? 2 : 3
    };
    if (s.kind === "step") o.step = "end";
    if (s.labels) {
      o.label = { show: true, position: "top", distance: 4, color: MUTED, fontSize: 10, fontFamily: FONT,
        formatter: function (p) { return s.labels[p.dataIndex] || ""; } };
      o.labelLayout = { hideOverlap: true };
    }
    if (s.open) {
      o.symbolSize = 16; o.z = 4;
      o.itemStyle = { color: "rgba(255,255,255,0)", borderColor: s.color, borderWidth: 2 };
    }
    return o;
  }

  // inRightHalf tells whether x lies in the right half of the points' x range (on the axis's
  // scale, logarithmic or not).
  function inRightHalf(spec, x) {
    var lo = Infinity, hi = -Infinity;
    var f = spec.x.log ? function (v) { return Math.log(v); } : function (v) { return v; };
    spec.series.forEach(function (s) {
      s.data.forEach(function (p) {
        if (p[0] !== null && (!spec.x.log || p[0] > 0)) { lo = Math.min(lo, f(p[0])); hi = Math.max(hi, f(p[0])); }
      });
    });
    if (!(hi > lo)) return false;
    return f(x) - lo > (hi - lo) / 2;
  }

  function addMarks(spec, series) {
    if (!series.length) return;
    if (spec.marks && spec.marks.length) {
      series[0].markLine = {
        symbol: "none", silent: true, animation: false,
        data: spec.marks.map(function (m) {
          var d = { label: { formatter: m.label, color: m.color, fontSize: 11, fontFamily: FONT,
            position: m.axis === "x" ? "end" : "insideEndTop", distance: 4 },
            lineStyle: { color: m.color, type: "dashed", width: 1.5 } };
          // The label above a vertical line runs towards the chart's middle, clear of the
          // tick labels of an axis at either edge.
          if (m.axis === "x") d.label.align = inRightHalf(spec, m.value) ? "right" : "left";
          d[m.axis === "x" ? "xAxis" : "yAxis"] = m.value;
          return d;
        })
      };
    }
    if (spec.bands && spec.bands.length) {
      series[0].markArea = {
        silent: true, itemStyle: { color: "rgba(0,114,178,0.07)" },
        label: { color: MUTED, fontSize: 11, position: "insideTop" },
        data: spec.bands.map(function (b) { return [{ xAxis: b.from, name: b.label }, { xAxis: b.to }]; })
      };
    }
  }

  // legendRows estimates how many rows the legend wraps to in a chart of this width.
  function legendRows(spec, width) {
    var rows = 1, x = 0;
    spec.series.forEach(function (s) {
      var w = 34 + s.name.length * 6.6;
      if (x > 0 && x + w > width - 16) { rows++; x = 0; }
      x += w;
    });
    return rows;
  }

  function tooltip(spec) {
    var scatter = spec.series.every(function (s) { return s.kind === "scatter" || s.kind === "curve"; }) && spec.id === "pareto";
    var fx = spec.x.percent ? pct : num;
    return {
      trigger: scatter ? "item" : "axis", confine: true,
      axisPointer: { type: "line", lineStyle: { color: AXIS } },
      textStyle: { fontFamily: FONT, fontSize: 12 },
      formatter: function (ps) {
        ps = [].concat(ps);
        var head = ps.length ? esc(spec.x.name) + ": " + esc(fx(ps[0].value[0])) : "";
        return head + ps.map(function (p) {
          var yax = (spec.series[p.seriesIndex] && spec.series[p.seriesIndex].axis) ? spec.y2 : spec.y;
          var y = p.value[1], fy = yax && yax.percent ? pct(y) : num(y);
          var label = p.name ? " (" + esc(p.name) + ")" : "";
          return "<br>" + p.marker + esc(p.seriesName) + ": <b>" + esc(fy) + "</b>" + label;
        }).join("");
      }
    };
  }

  function option(spec, width) {
    var series = spec.series.map(seriesOption);
    addMarks(spec, series);
    var top = 14 + 22 * legendRows(spec, width);
    if ((spec.marks || []).some(function (m) { return m.axis === "x"; })) top += 16;
    var y = [axisOption(spec.y, false, false)];
    if (spec.y2) y.push(axisOption(spec.y2, false, true));
    return {
      animation: false, textStyle: { fontFamily: FONT, color: INK },
      color: spec.series.map(function (s) { return s.color; }),
      legend: { type: "plain", top: 4, left: 8, right: 8, itemWidth: 22, itemHeight: 10, itemGap: 12,
        textStyle: { fontSize: 11.5, color: INK, fontFamily: FONT } },
      grid: { left: 66, right: spec.y2 ? 66 : 22, top: top + 8, bottom: 50 },
      tooltip: tooltip(spec),
      xAxis: axisOption(spec.x, true, false), yAxis: y, series: series
    };
  }

  function countPoints(spec) {
    return spec.series.reduce(function (n, s) {
      return n + s.data.filter(function (p) { return p[1] !== null; }).length;
    }, 0);
  }

  // normalise fills in what Go leaves out (nil slices arrive as null).
  function normalise(spec) {
    spec.series = (spec.series || []).map(function (s) { s.data = s.data || []; return s; });
    spec.marks = spec.marks || [];
    spec.bands = spec.bands || [];
    return spec;
  }

  function draw(el, spec) {
    spec = normalise(spec);
    var old = echarts.getInstanceByDom(el);
    if (old) { old.dispose(); instances = instances.filter(function (c) { return c !== old; }); }
    el.classList.remove("chart-note");
    el.textContent = "";
    var rec = { id: spec.id, points: countPoints(spec), note: spec.note || "", drawn: 0 };
    if (spec.note || !rec.points) {
      el.classList.add("chart-note");
      el.textContent = spec.note || "Nothing to draw.";
      rec.note = el.textContent;
    } else {
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option(spec, el.clientWidth || 600));
      instances.push(chart);
      rec.drawn = el.querySelectorAll("path").length;
    }
    st.charts = st.charts.filter(function (c) { return c.id !== spec.id; });
    st.charts.push(rec);
  }

  function byID(id) {
    var all = (model.scaling || []).concat([model.efficiency, model.karp_flatt, model.pareto], model.load || []);
    for (var i = 0; i < all.length; i++) if (all[i] && all[i].id === id) return all[i];
    return null;
  }

  function showGroup(name, idx) {
    var group = (model[name] || [])[idx];
    if (!group) return;
    document.querySelectorAll('.chart[data-group="' + name + '"]').forEach(function (el) {
      var spec = group.charts[+el.getAttribute("data-slot")];
      if (spec) draw(el, spec);
    });
    if (name === "timelines") {
      document.querySelectorAll(".tl-info").forEach(function (el) {
        el.hidden = el.getAttribute("data-info") !== String(idx);
      });
    }
  }

  // pickFromURL selects the experiment named by ?exp=ID in the time-series picker, so a link
  // can point at one experiment.
  function pickFromURL() {
    var id = new URLSearchParams(window.location.search).get("exp");
    var sel = document.querySelector('select[data-group="timelines"]');
    if (!id || !sel) return;
    (model.timelines || []).forEach(function (g, i) { if (g.key === id) sel.value = String(i); });
  }

  function publish() {
    st.done = true;
    var out = document.getElementById("render-status");
    if (out) out.textContent = JSON.stringify({ done: true, errors: st.errors, charts: st.charts,
      height: document.documentElement.scrollHeight });
    document.documentElement.setAttribute("data-render", st.errors.length ? "error" : "ok");
  }

  function start() {
    try {
      model = JSON.parse(document.getElementById("chart-data").textContent);
      document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
        var spec = byID(el.getAttribute("data-chart"));
        if (spec) draw(el, spec);
        else st.errors.push("no chart data for " + el.getAttribute("data-chart"));
      });
      pickFromURL();
      document.querySelectorAll("select[data-group]").forEach(function (sel) {
        var name = sel.getAttribute("data-group");
        showGroup(name, +sel.value);
        sel.addEventListener("change", function () { showGroup(name, +sel.value); });
      });
      document.querySelectorAll("[data-show]").forEach(function (a) {
        a.addEventListener("click", function () {
          var sel = document.querySelector('select[data-group="timelines"]');
          if (!sel) return;
          sel.value = a.getAttribute("data-show");
          showGroup("timelines", +sel.value);
        });
      });
      window.addEventListener("resize", function () {
        instances.forEach(function (c) { c.resize(); });
      });
    } catch (e) {
      st.errors.push("report script: " + (e && e.message));
    }
    publish();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
