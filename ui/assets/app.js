// Pitwall's pages work without this script; it adds conveniences and draws the charts.
(function () {
  "use strict";

  // A select that applies its form when changed.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });

  // Forms that ask before they change something that cannot be undone.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });

  // The column picker's search box hides the keys that do not match.
  document.querySelectorAll(".col-filter").forEach(function (input) {
    input.addEventListener("input", function () {
      var needle = input.value.toLowerCase();
      input.form.querySelectorAll("label.pick").forEach(function (l) {
        l.hidden = needle !== "" && l.textContent.toLowerCase().indexOf(needle) < 0;
      });
    });
  });

  var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
  // The bulk-interval endpoint's cap of values per run.
  var MAX_PER_RUN = 2500;
  var LIVE_EVERY_MS = 5000;

  function fetchHistory(runs, key, window_) {
    var qs = runs.map(function (r) { return "run_ids=" + encodeURIComponent(r); }).join("&");
    qs += "&metric_key=" + encodeURIComponent(key) + "&max_results=" + MAX_PER_RUN;
    if (window_) qs += "&start_step=" + Math.floor(window_[0]) + "&end_step=" + Math.ceil(window_[1]);
    return fetch("/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?" + qs, { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("history: HTTP " + r.status);
        return r.json();
      })
      .then(function (body) { return body.metrics || []; });
  }

  // uPlot's columns: one x array (the union of every run's x), one y array per run.
  function toColumns(metrics, runs, xMode) {
    var xs = {};
    var per = runs.map(function () { return {}; });
    metrics.forEach(function (m) {
      var i = runs.indexOf(m.run_id);
      if (i < 0) return;
      var x = xMode === "time" ? m.timestamp / 1000 : m.step;
      xs[x] = true;
      var v = typeof m.value === "number" ? m.value : Number(m.value);
      per[i][x] = v;
    });
    var xArr = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
    var cols = [xArr];
    per.forEach(function (p) {
      cols.push(xArr.map(function (x) { return x in p ? p[x] : null; }));
    });
    return cols;
  }

  function setupCharts(box) {
    var runs = box.getAttribute("data-runs").split(",").filter(Boolean);
    var live = box.getAttribute("data-live") === "true";
    var panel = box.closest("section") || document;
    var xSel = panel.querySelector(".chart-x");
    var ySel = panel.querySelector(".chart-y");
    var charts = [];

    function Chart(fig) {
      this.fig = fig;
      this.key = fig.getAttribute("data-key");
      this.plot = null;
      this.zoom = null;
    }

    Chart.prototype.draw = function (metrics) {
      var self = this;
      var xMode = xSel ? xSel.value : "step";
      var logY = ySel && ySel.value === "log";
      var data = toColumns(metrics, runs, xMode);
      var holder = this.fig.querySelector(".plot");
      var width = Math.max(280, holder.clientWidth || this.fig.clientWidth || 600);
      var opts = {
        width: width,
        height: 220,
        scales: { x: { time: xMode === "time" }, y: logY ? { distr: 3 } : {} },
        series: [{ label: xMode }].concat(runs.map(function (r, i) {
          return { label: runs.length > 1 ? r.slice(0, 8) : self.key, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: true, points: { show: data[0].length <= 200 } };
        })),
        cursor: { drag: { x: true, y: false, setScale: false } },
        legend: { show: runs.length > 1 },
        hooks: {
          setSelect: [function (u) {
            if (u.select.width < 4) return;
            var lo = u.posToVal(u.select.left, "x");
            var hi = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, width: 0 }, false);
            self.zoomTo(lo, hi);
          }]
        }
      };
      if (this.plot) this.plot.destroy();
      holder.textContent = "";
      this.plot = new uPlot(opts, data, holder);
      this.fig.setAttribute("data-points", String(data[0].length));
      this.fig.setAttribute("data-ready", "1");
    };

    // Zooming fetches the window again: the store samples each window on its own, so a
    // narrow window shows every value logged in it.
    Chart.prototype.zoomTo = function (lo, hi) {
      var self = this;
      var xMode = xSel ? xSel.value : "step";
      if (xMode !== "step") {
        this.plot.setScale("x", { min: lo, max: hi });
        return;
      }
      this.zoom = [lo, hi];
      this.fig.removeAttribute("data-ready");
      this.fig.setAttribute("data-zoomed", "1");
      fetchHistory(runs, this.key, this.zoom).then(function (m) {
        self.draw(m);
        self.plot.setScale("x", { min: lo, max: hi });
      }).catch(function (e) { self.fail(e); });
    };

    Chart.prototype.load = function () {
      var self = this;
      return fetchHistory(runs, this.key, this.zoom).then(function (m) { self.draw(m); })
        .catch(function (e) { self.fail(e); });
    };

    Chart.prototype.fail = function (e) {
      this.fig.setAttribute("data-error", String(e));
    };

    box.querySelectorAll(".metric-chart").forEach(function (fig) { charts.push(new Chart(fig)); });

    // Charts are drawn as they scroll into view: a run may have hundreds of metrics.
    var seen = new Set();
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (!e.isIntersecting) return;
        var c = charts.find(function (c) { return c.fig === e.target; });
        if (c && !seen.has(c)) {
          seen.add(c);
          c.load();
        }
      });
    }, { rootMargin: "200px" });
    charts.forEach(function (c) { observer.observe(c.fig); });

    function redrawAll() {
      charts.forEach(function (c) { if (seen.has(c)) c.load(); });
    }
    if (xSel) xSel.addEventListener("change", function () { charts.forEach(function (c) { c.zoom = null; }); redrawAll(); });
    if (ySel) ySel.addEventListener("change", redrawAll);
    var reset = panel.querySelector(".chart-reset");
    if (reset) reset.addEventListener("click", function () {
      charts.forEach(function (c) { c.zoom = null; c.fig.removeAttribute("data-zoomed"); });
      redrawAll();
    });

    if (live && runs.length === 1) {
      var timer = setInterval(function () {
        fetch("/ajax-api/2.0/mlflow/runs/get?run_id=" + encodeURIComponent(runs[0]), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (body) {
            var status = body.run && body.run.info && body.run.info.status;
            var badge = document.getElementById("run-status");
            if (badge && status) {
              badge.textContent = status;
              badge.className = "status status-" + status;
            }
            charts.forEach(function (c) { if (seen.has(c) && !c.zoom) c.load(); });
            if (status && status !== "RUNNING") clearInterval(timer);
          })
          .catch(function () { /* the next tick tries again */ });
      }, LIVE_EVERY_MS);
    }
  }

  if (window.uPlot) document.querySelectorAll(".charts[data-runs]").forEach(setupCharts);
})();
