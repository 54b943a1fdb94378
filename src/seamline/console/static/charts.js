/* Draws the console's charts: each element with data-figure holds a plotly.js figure built by console/charts.py.
   A flow map (data-filter="flow") filters on click; buttons with data-export download the chart through
   Plotly.toImage (SVG or PNG). */
(function () {
  "use strict";
  var CONFIG = {displaylogo: false, responsive: true};

  function focusOn(el, pairs) {
    var query = JSON.parse(el.dataset.query || "{}");
    pairs.forEach(function (pair) { query[pair[0]] = pair[1]; });
    window.location.href = el.dataset.base + "?" + new URLSearchParams(query).toString();
  }

  function onClick(el, figure, event) {
    var point = event && event.points && event.points[0];
    if (!point) { return; }
    var trace = figure.data[0];
    var isLink = point.source !== undefined && point.target !== undefined;
    var number = point.pointNumber !== undefined ? point.pointNumber : point.index;
    var c = point.customdata || (isLink ? trace.link.customdata : trace.node.customdata)[number];
    if (!c) { return; }
    if (c.length === 3) { focusOn(el, [[c[0], c[1]]]); }  // a node: stage, name
    else if (c.length >= 4) { focusOn(el, [[c[0], c[1]], [c[2], c[3]]]); }  // an edge: both ends
  }

  document.querySelectorAll("[data-figure]").forEach(function (el) {
    var figure = JSON.parse(el.dataset.figure);
    Plotly.newPlot(el, figure.data, figure.layout, CONFIG).then(function (gd) {
      el.setAttribute("data-drawn", "yes");
      if (el.dataset.filter === "flow") { gd.on("plotly_click", function (event) { onClick(el, figure, event); }); }
    });
  });

  document.querySelectorAll("[data-export]").forEach(function (button) {
    button.addEventListener("click", function () {
      var chart = document.getElementById(button.dataset.chart);
      var format = button.dataset.export;
      Plotly.toImage(chart, {format: format, width: 1400, height: 720}).then(function (url) {
        var link = document.createElement("a");
        link.href = url;
        link.download = "flow-map." + format;
        document.body.appendChild(link);
        link.click();
        link.remove();
      });
    });
  });
}());
