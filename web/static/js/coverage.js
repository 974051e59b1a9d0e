// Draws the coverage heat map (places × service periods) with the vendored ECharts from the page's JSON block.
(function () {
  var holder = document.getElementById("heatmap-data");
  var box = document.querySelector("[data-heatmap]");
  if (!holder || !box || !window.echarts) { return; }
  var data = JSON.parse(holder.textContent);
  var narrow = box.clientWidth < 520;
  // One band per place, tall enough to tap on a phone; the box grows with the number of places.
  box.style.height = Math.max(220, data.places.length * (narrow ? 30 : 26) + 110) + "px";
  var chart = window.echarts.init(box, null, { renderer: "canvas" });
  var short = function (text) {
    var limit = narrow ? 7 : 16;
    return text.length > limit ? text.slice(0, limit) + "…" : text;
  };
  var shareText = function (share) {
    return share < 0 ? "无巡查目标" : "目标完成 " + Math.round(share * 100) + "%";
  };
  chart.setOption({
    textStyle: { fontFamily: "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" },
    grid: { left: 4, right: 8, top: 8, bottom: 64, containLabel: true },
    tooltip: {
      position: "top", confine: true,
      formatter: function (p) {
        return data.places[p.value[1]] + "<br>" + data.periods[p.value[0]] + "：检查 " + p.value[2] + " 次，"
          + shareText(p.value[3]);
      }
    },
    xAxis: { type: "category", data: data.periods, position: "top", splitArea: { show: true },
             axisLabel: { interval: 0, rotate: narrow ? 45 : 0, fontSize: narrow ? 11 : 12 } },
    yAxis: { type: "category", data: data.places, inverse: true, splitArea: { show: true },
             axisLabel: { formatter: short, fontSize: narrow ? 11 : 12 } },
    visualMap: {
      type: "piecewise", dimension: 3, orient: "horizontal", left: "center", bottom: 4, itemWidth: 14,
      textStyle: { fontSize: narrow ? 11 : 12 },
      pieces: [
        { value: -1, label: "无目标", color: "#d5dae2" },
        { gte: 0, lt: 0.5, label: "<50%", color: "#d9534f" },
        { gte: 0.5, lt: 1, label: "50–99%", color: "#f0ad4e" },
        { gte: 1, label: "达标", color: "#3c8d5a" }
      ]
    },
    series: [{ type: "heatmap", data: data.cells, label: { show: true, color: "#1f2937", formatter: function (p) { return p.value[2]; } },
               emphasis: { itemStyle: { borderColor: "#1d3f72", borderWidth: 2 } } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
