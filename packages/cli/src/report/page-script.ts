/**
 * The script of a report page, run by the browser after vega and vega-lite's builds: it compiles each
 * chart's vega-lite spec, renders it as SVG with vega's View (no vega-embed needed), shows tooltips,
 * and drives the architecture charts from the epoch slider. Plain ES2017 in a string, so that no
 * bundler or transpiler touches it on its way into the page.
 *
 * Each chart's container gets `data-rendered="true"` (or `"failed"`, with the message logged as a
 * console error); `<body data-charts="done">` once all have been tried.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var tooltip = document.getElementById('tooltip');
  var views = {};

  function showTooltip(_handler, event, _item, value) {
    if (value === null || value === undefined || value === '') {
      tooltip.hidden = true;
      return;
    }
    tooltip.textContent = '';
    var entries = typeof value === 'object' ? Object.keys(value).map(function (k) { return [k, value[k]]; }) : [['', value]];
    entries.forEach(function (entry) {
      var row = document.createElement('div');
      if (entry[0]) {
        var key = document.createElement('b');
        key.textContent = entry[0] + ': ';
        row.appendChild(key);
      }
      row.appendChild(document.createTextNode(String(entry[1])));
      tooltip.appendChild(row);
    });
    tooltip.hidden = false;
    tooltip.style.left = event.clientX + 14 + 'px';
    tooltip.style.top = event.clientY + 14 + 'px';
  }

  async function render(chart) {
    var container = document.getElementById(chart.id);
    try {
      var compiled = vegaLite.compile(chart.spec).spec;
      var view = new vega.View(vega.parse(compiled), { renderer: 'svg', container: container, hover: true, tooltip: showTooltip });
      await view.runAsync();
      views[chart.id] = view;
      container.dataset.rendered = 'true';
    } catch (error) {
      container.dataset.rendered = 'failed';
      container.textContent = 'This chart could not be drawn: ' + error.message;
      console.error('chart ' + chart.id + ': ' + error.message);
    }
  }

  function wireEpochSlider() {
    var slider = document.getElementById('epoch-slider');
    if (!slider) return;
    var epochs = data.architectureEpochs;
    var label = document.getElementById('epoch-value');
    async function show() {
      var epoch = epochs[Number(slider.value)];
      label.textContent = String(epoch);
      document.querySelectorAll('#architecture-history tr[data-epoch]').forEach(function (row) {
        row.classList.toggle('selected', Number(row.dataset.epoch) === epoch);
      });
      await Promise.all(
        data.epochCharts.filter(function (id) { return views[id]; }).map(function (id) {
          return views[id].signal(data.epochSignal, epoch).runAsync();
        })
      );
      slider.dataset.shownEpoch = String(epoch);
    }
    slider.addEventListener('input', function () {
      show().catch(function (error) { console.error('epoch slider: ' + error.message); });
    });
    show().catch(function (error) { console.error('epoch slider: ' + error.message); });
  }

  Promise.all(data.charts.map(render)).then(function () {
    wireEpochSlider();
    document.body.dataset.charts = 'done';
  });
})();
`;
