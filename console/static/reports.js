// The /reports page's chart: the figure the server chose (console/report_charts.py, in #chart-data) drawn
// with the plotly.js we serve; a click on a bar or point opens the cases behind it (its drill query).
(function () {
  "use strict";
  const holder = document.getElementById("chart");
  const source = document.getElementById("chart-data");
  if (!holder || !source || !window.Plotly) {
    return;
  }
  const figure = JSON.parse(source.textContent);
  window.Plotly.newPlot(holder, figure.data, figure.layout, {displaylogo: false, responsive: true})
    .then(function () {
      holder.dataset.drawn = figure.kind;
    });
  holder.on("plotly_click", function (event) {
    const point = event.points && event.points[0];
    if (point && typeof point.customdata === "string") {
      window.location.href = holder.dataset.here + (point.customdata ? "&" + point.customdata : "&group=-");
    }
  });
})();
