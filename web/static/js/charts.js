// Draws the scorecard charts with the vendored ECharts; data comes from a JSON block the page carries.
(function () {
  var holder = document.getElementById("chart-data");
  var box = document.querySelector("[data-chart]");
  if (!holder || !box || !window.echarts) { return; }
  var data = JSON.parse(holder.textContent);
  var chart = window.echarts.init(box, null, { renderer: "canvas" });
  var font = { fontFamily: "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" };
  var option;
  if (data.kind === "bar") {
    option = {
      textStyle: font, grid: { left: 8, right: 56, top: 24, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "value", name: "综合得分" },
      yAxis: { type: "category", data: data.units.slice().reverse() },
      series: [{ type: "bar", data: data.scores.slice().reverse(), itemStyle: { color: "#25518f" },
                 label: { show: true, position: "right" } }]
    };
  } else {
    option = {
      textStyle: font, grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" }, legend: { data: ["综合得分", "整改率%", "按期整改率%"] },
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value" },
      series: [
        { name: "综合得分", type: "line", data: data.scores, itemStyle: { color: "#b3261e" } },
        { name: "整改率%", type: "line", data: data.closure, itemStyle: { color: "#25518f" } },
        { name: "按期整改率%", type: "line", data: data.on_time, itemStyle: { color: "#1c6b3a" } }
      ]
    };
  }
  chart.setOption(option);
  window.addEventListener("resize", function () { chart.resize(); });
})();
