// chaosbench report page. Reads the JSON in #report-data (built by
// reports/src/html_report.cpp) and builds the page with DOM calls only:
// every string from the run is set with textContent or setAttribute, never
// parsed as markup. Charts are SVG (axes, faults, percentile lines, bars) over
// canvas (one point per operation); the timeline is a canvas that draws only
// the operations in view and merges bars narrower than a pixel.
(function () {
  'use strict';

  var scriptStart = performance.now();  // includes parsing the embedded data
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var errors = [];

  function recordError(message) {
    errors.push(String(message));
    var box = document.getElementById('report-errors');
    if (!box) {
      box = document.createElement('pre');
      box.id = 'report-errors';
      document.body.insertBefore(box, document.body.firstChild);
    }
    box.textContent = 'The report script failed; some parts may be missing:\n' + errors.join('\n');
    document.body.setAttribute('data-js-errors', String(errors.length));
  }
  window.addEventListener('error', function (event) {
    recordError((event.message || 'error') + (event.lineno ? ' (line ' + event.lineno + ')' : ''));
  });
  window.addEventListener('unhandledrejection', function (event) { recordError('unhandled rejection: ' + event.reason); });

  // ---------- small DOM helpers ----------
  function el(tag, props, children) {
    var node = document.createElement(tag);
    if (props) {
      for (var name in props) {
        if (!Object.prototype.hasOwnProperty.call(props, name)) continue;
        var value = props[name];
        if (value === undefined || value === null) continue;
        if (name === 'text') node.textContent = String(value);
        else if (name === 'className') node.className = value;
        else if (name === 'onclick') node.addEventListener('click', value);
        else node.setAttribute(name, String(value));
      }
    }
    if (children) children.forEach(function (child) { if (child) node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child); });
    return node;
  }
  function svgEl(tag, attrs, parent) {
    var node = document.createElementNS(SVG_NS, tag);
    for (var name in attrs) {
      if (Object.prototype.hasOwnProperty.call(attrs, name)) {
        if (name === 'text') node.textContent = String(attrs[name]);
        else node.setAttribute(name, String(attrs[name]));
      }
    }
    if (parent) parent.appendChild(node);
    return node;
  }
  function svgTitle(node, text) { svgEl('title', { text: text }, node); }
  function card(title, note) {
    var section = el('section', { className: 'card' }, [el('h2', { text: title })]);
    if (note) section.appendChild(el('p', { className: 'note', text: note }));
    return section;
  }
  function verdictBadge(verdict, big) {
    var v = verdict === 'valid' || verdict === 'invalid' ? verdict : 'unknown';
    return el('span', { className: 'verdict ' + v + (big ? ' big' : ''), text: verdict || 'unknown' });
  }

  // ---------- data ----------
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var timed = data.time.unit !== 'position';
  var O = data.ops;
  var N = O.count;
  var start = new Float64Array(N), end = new Float64Array(N), opIndex = new Float64Array(N);
  (function decode() {
    var t = 0, x = 0;
    for (var i = 0; i < N; i++) {
      t += O.s[i]; start[i] = t; end[i] = t + O.d[i];
      x += O.i[i]; opIndex[i] = x;
    }
  })();
  var timeEnd = Math.max(data.time.end, N ? end[N - 1] : 0, 1);
  for (var e = 0; e < N; e++) if (end[e] > timeEnd) timeEnd = end[e];
  var OUTCOMES = ['ok', 'fail', 'info', 'info (never completed)'];
  var OUTCOME_COLORS = ['#1f9d55', '#d3343b', '#d08a00', '#8a93a3'];
  var SERIES_COLORS = ['#2f6fdf', '#e8710a', '#12a37f', '#a142f4', '#d6336c', '#0b8fb3', '#7a5c00', '#5f6b7a'];
  var FAULT_COLORS = { partition: '#3b6fd8', kill: '#d3343b', pause: '#8e44ad', clock: '#e07b00', loss: '#0f9b8e', delay: '#6b7280' };
  function faultColor(kind) {
    if (FAULT_COLORS[kind]) return FAULT_COLORS[kind];
    var h = 0;
    for (var i = 0; i < kind.length; i++) h = (h * 31 + kind.charCodeAt(i)) >>> 0;
    return SERIES_COLORS[h % SERIES_COLORS.length];
  }
  function seriesColor(f) { return SERIES_COLORS[f % SERIES_COLORS.length]; }

  // Time formatting: ticks are microseconds (timed) or positions (untimed histories).
  // `step`, when given, is the spacing of neighbouring axis ticks: enough decimals to tell them apart.
  function fmtTime(ticks, step) {
    if (!timed) return String(Math.round(ticks));
    var s = ticks / 1e6;
    if (step) return s.toFixed(Math.min(6, Math.max(0, Math.ceil(-Math.log10(step / 1e6) - 1e-9)))) + ' s';
    if (Math.abs(s) >= 100) return s.toFixed(0) + ' s';
    if (Math.abs(s) >= 10) return s.toFixed(1) + ' s';
    return s.toFixed(2) + ' s';
  }
  function fmtLatency(ticks) {
    if (!timed) return Math.round(ticks) + ' pos';
    var ms = ticks / 1000;
    if (ms >= 1000) return (ms / 1000).toFixed(ms >= 100000 ? 0 : 1) + ' s';
    if (ms >= 100) return ms.toFixed(0) + ' ms';
    if (ms >= 1) return ms.toFixed(1) + ' ms';
    return ms.toFixed(3) + ' ms';
  }
  function fmtCount(n) { return Number(n).toLocaleString('en-US'); }
  function valueText(id) { var v = data.values[id]; return v === null || v === undefined ? 'nil' : v; }
  function processOf(row) { return data.processes[O.p ? O.p[row] : O.l[row]]; }
  function describeOp(row) {
    var f = data.functions[O.f[row]];
    var key = O.k && O.k[row] ? ' ' + data.keys[O.k[row]] : '';
    var text = f + key + ' ' + valueText(O.v[row]);
    var outcome = O.o[row];
    if (outcome === 0 && O.w[row] !== O.v[row]) text += ' \u2192 ' + valueText(O.w[row]);
    if (outcome === 1 || outcome === 2) text += ' \u2192 ' + OUTCOMES[outcome] + (O.w[row] && O.w[row] !== O.v[row] ? ' ' + valueText(O.w[row]) : '');
    return text;
  }

  // ---------- scales and axes ----------
  function niceStep(span, count) {
    var raw = span / Math.max(count, 1);
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * mag >= raw) return steps[i] * mag;
    return 10 * mag;
  }
  function linearScale(d0, d1, r0, r1) {
    var k = (r1 - r0) / ((d1 - d0) || 1);
    var scale = function (v) { return r0 + (v - d0) * k; };
    scale.invert = function (p) { return d0 + (p - r0) / k; };
    scale.ticks = function (count) {
      var step = niceStep(d1 - d0 || 1, count), out = [];
      for (var k = Math.ceil(d0 / step); k * step <= d1 + step * 1e-9; k++) out.push(k * step);
      scale.step = step;
      return out;
    };
    return scale;
  }
  // Log scale over whole decades; with at most two decades, 2x and 5x ticks too.
  function logScale(d0, d1, r0, r1) {
    var l0 = Math.floor(Math.log10(Math.max(d0, 1e-9))), l1 = Math.ceil(Math.log10(Math.max(d1, 1e-9)));
    if (l1 <= l0) l1 = l0 + 1;
    var scale = function (v) { return r0 + (Math.log10(Math.max(v, Math.pow(10, l0))) - l0) / (l1 - l0) * (r1 - r0); };
    scale.ticks = function () {
      var out = [], steps = l1 - l0 <= 2 ? [1, 2, 5] : [1];
      for (var p = l0; p <= l1; p++) {
        steps.forEach(function (m) { var v = m * Math.pow(10, p); if (p < l1 || m === 1) out.push(v); });
      }
      return out;
    };
    return scale;
  }
  function timeTicks(x, width) { return x.ticks(Math.max(2, Math.floor(width / 110))); }
  function drawTimeAxis(svg, x, y0, width, label) {
    var g = svgEl('g', { 'class': 'axis' }, svg);
    svgEl('line', { x1: x(0), x2: x(0) + width, y1: y0, y2: y0 }, g);
    timeTicks(x, width).forEach(function (t) {
      var px = x(t);
      svgEl('line', { x1: px, x2: px, y1: y0, y2: y0 + 4 }, g);
      svgEl('text', { x: px, y: y0 + 16, 'text-anchor': 'middle', text: fmtTime(t, x.step) }, g);
    });
    if (label) svgEl('text', { x: x(0) + width, y: y0 + 30, 'text-anchor': 'end', text: label }, g);
  }
  function drawYAxis(svg, ticks, y, x0, width, format) {
    var g = svgEl('g', { 'class': 'axis' }, svg);
    ticks.forEach(function (v) {
      var py = y(v);
      svgEl('line', { 'class': 'gridline', x1: x0, x2: x0 + width, y1: py, y2: py }, g);
      svgEl('text', { x: x0 - 6, y: py + 4, 'text-anchor': 'end', text: format(v) }, g);
    });
  }

  // Fault windows: a track of labelled bars (one row per kind) and shading over the plot.
  var faultKinds = [];
  data.faults.forEach(function (w) { if (!w.instant && faultKinds.indexOf(w.kind) < 0) faultKinds.push(w.kind); });
  var FAULT_ROW = 15;
  function faultTrackHeight() { return faultKinds.length ? faultKinds.length * FAULT_ROW + 6 : 0; }
  function drawFaults(svg, x, plotTop, plotHeight, withTrack, x0, x1) {
    var g = svgEl('g', { 'class': 'faults' }, svg);
    var trackTop = plotTop - faultTrackHeight();
    data.faults.forEach(function (w, i) {
      var a = Math.max(x(w.start), x0), b = Math.min(x(w.end), x1);
      if (b < x0 || a > x1) return;
      var color = faultColor(w.kind);
      var title = (w.instant ? 'nemesis ' + w.f : w.kind + ' fault') + (w.label ? ': ' + w.label : '') +
        '\n' + fmtTime(w.start) + (w.instant ? '' : ' \u2013 ' + fmtTime(w.end)) + (w.open ? ' (never stopped)' : '') +
        (w.failed ? '\nthe nemesis reported an error' : '');
      if (w.instant) {
        var line = svgEl('line', { x1: a, x2: a, y1: plotTop, y2: plotTop + plotHeight, stroke: '#6b7280', 'stroke-dasharray': '3,3', 'data-fault': i }, g);
        svgTitle(line, title);
        return;
      }
      var rect = svgEl('rect', { x: a, y: plotTop, width: Math.max(b - a, 1), height: plotHeight, fill: color, 'fill-opacity': 0.1, 'class': 'fault-shade', 'data-fault': i }, g);
      svgTitle(rect, title);
      if (!withTrack) return;
      var row = faultKinds.indexOf(w.kind);
      var y = trackTop + row * FAULT_ROW + 2;
      var bar = svgEl('g', { 'class': 'fault-label' }, g);
      svgEl('rect', { x: a, y: y, width: Math.max(b - a, 2), height: FAULT_ROW - 3, rx: 2, fill: color, 'fill-opacity': w.failed ? 0.35 : 0.85 }, bar);
      var text = w.kind + (w.label ? ': ' + w.label : '');
      var maxChars = Math.floor((b - a - 6) / 6);
      if (maxChars >= 3) {
        svgEl('text', { x: a + 3, y: y + FAULT_ROW - 6, style: 'fill:#fff;font-size:10.5px', text: text.length > maxChars ? text.slice(0, maxChars - 1) + '\u2026' : text }, bar);
      }
      svgTitle(bar, title);
    });
    faultKinds.forEach(function (kind, row) {
      if (withTrack) svgEl('text', { x: x0 - 6, y: trackTop + row * FAULT_ROW + FAULT_ROW - 4, 'text-anchor': 'end', style: 'font-size:10.5px', text: kind }, g);
    });
  }

  function chartFrame(container, height, margin) {
    var width = Math.max(container.clientWidth, 320);
    var box = el('div', { className: 'chart' });
    box.style.height = height + 'px';
    container.appendChild(box);
    var svg = svgEl('svg', { width: width, height: height, viewBox: '0 0 ' + width + ' ' + height });
    return { box: box, svg: svg, width: width, height: height, plotWidth: width - margin.left - margin.right, plotHeight: height - margin.top - margin.bottom, margin: margin };
  }
  function hiDpiCanvas(box, width, height) {
    var ratio = window.devicePixelRatio || 1;
    var canvas = document.createElement('canvas');
    canvas.width = Math.round(width * ratio); canvas.height = Math.round(height * ratio);
    canvas.style.width = width + 'px'; canvas.style.height = height + 'px';
    var ctx = canvas.getContext('2d');
    ctx.scale(ratio, ratio);
    box.appendChild(canvas);
    return { canvas: canvas, ctx: ctx };
  }

  // ---------- latency scatter ----------
  function renderLatency(container) {
    container.textContent = '';
    var margin = { left: 64, right: 14, top: 10 + faultTrackHeight(), bottom: 38 };
    var frame = chartFrame(container, 360, margin);
    frame.box.id = 'latency-chart';
    var minLat = Infinity, maxLat = 1;
    for (var i = 0; i < N; i++) {
      if (O.o[i] === 3) continue;
      var d = Math.max(O.d[i], 1);
      if (d < minLat) minLat = d;
      if (d > maxLat) maxLat = d;
    }
    if (minLat === Infinity) minLat = 1;
    var x = linearScale(0, timeEnd, margin.left, margin.left + frame.plotWidth);
    var y = logScale(minLat, maxLat, margin.top + frame.plotHeight, margin.top);
    drawYAxis(frame.svg, y.ticks(), y, margin.left, frame.plotWidth, fmtLatency);
    drawFaults(frame.svg, x, margin.top, frame.plotHeight, true, margin.left, margin.left + frame.plotWidth);
    var layer = hiDpiCanvas(frame.box, frame.width, frame.height);
    var ctx = layer.ctx;
    // One mark per operation, skipping marks that land on a pixel already drawn
    // with the same series and outcome (so a million points still draw quickly).
    var seen = {}, drawn = 0, W = frame.width;
    function occupied(key, px, py) {
      var grid = seen[key] || (seen[key] = new Uint8Array(W * frame.height));
      var at = (py | 0) * W + (px | 0);
      if (grid[at]) return true;
      grid[at] = 1;
      return false;
    }
    [0, 1, 2].forEach(function (outcome) {
      for (var i = 0; i < N; i++) {
        if (O.o[i] !== outcome) continue;
        var f = O.f[i], px = x(start[i]), py = y(Math.max(O.d[i], 1));
        if (occupied(f * 4 + outcome, px, py)) continue;
        drawn++;
        ctx.fillStyle = ctx.strokeStyle = seriesColor(f);
        if (outcome === 0) {
          ctx.globalAlpha = 0.75;
          ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
        } else if (outcome === 1) {
          ctx.globalAlpha = 1; ctx.lineWidth = 1.3;
          ctx.beginPath(); ctx.moveTo(px - 3, py - 3); ctx.lineTo(px + 3, py + 3); ctx.moveTo(px + 3, py - 3); ctx.lineTo(px - 3, py + 3); ctx.stroke();
        } else {
          ctx.globalAlpha = 1; ctx.lineWidth = 1.2;
          ctx.beginPath(); ctx.moveTo(px, py - 3.5); ctx.lineTo(px + 3.5, py + 3); ctx.lineTo(px - 3.5, py + 3); ctx.closePath(); ctx.stroke();
        }
      }
    });
    ctx.globalAlpha = 1;
    frame.box.appendChild(frame.svg);
    drawTimeAxis(frame.svg, x, margin.top + frame.plotHeight, frame.plotWidth, timed ? 'time since start' : 'position in history');
    svgEl('text', { x: 12, y: margin.top + frame.plotHeight / 2, transform: 'rotate(-90 12 ' + (margin.top + frame.plotHeight / 2) + ')', 'text-anchor': 'middle', text: 'latency (log)' }, frame.svg);
    frame.box.setAttribute('data-drawn', String(drawn));
    return drawn;
  }
  function latencyLegend() {
    var legend = el('div', { className: 'legend' });
    data.functions.forEach(function (f, i) {
      legend.appendChild(el('span', null, [el('span', { className: 'sw', style: 'background:' + seriesColor(i) }), f]));
    });
    legend.appendChild(el('span', null, [el('span', { className: 'mk', text: '\u25a0' }), 'ok']));
    legend.appendChild(el('span', null, [el('span', { className: 'mk', text: '\u00d7' }), 'fail']));
    legend.appendChild(el('span', null, [el('span', { className: 'mk', text: '\u25b3' }), 'info']));
    return legend;
  }

  // ---------- percentiles per bucket ----------
  var B = data.buckets;
  var bucketCount = B.ok.length;
  function renderPercentiles(container) {
    container.textContent = '';
    var margin = { left: 64, right: 14, top: 10 + faultTrackHeight(), bottom: 38 };
    var frame = chartFrame(container, 280, margin);
    frame.box.id = 'percentile-chart';
    frame.box.appendChild(frame.svg);
    var lo = Infinity, hi = 1;
    ['p50', 'p95', 'p99', 'max'].forEach(function (name) {
      B[name].forEach(function (v, i) { if (B.ok[i] > 0) { v = Math.max(v, 1); if (v < lo) lo = v; if (v > hi) hi = v; } });
    });
    if (lo === Infinity) lo = 1;
    var x = linearScale(0, timeEnd, margin.left, margin.left + frame.plotWidth);
    var y = logScale(lo, hi, margin.top + frame.plotHeight, margin.top);
    drawYAxis(frame.svg, y.ticks(), y, margin.left, frame.plotWidth, fmtLatency);
    drawFaults(frame.svg, x, margin.top, frame.plotHeight, true, margin.left, margin.left + frame.plotWidth);
    var colors = { p50: '#2f6fdf', p95: '#12a37f', p99: '#e8710a', max: '#d3343b' };
    var drawn = 0;
    ['p50', 'p95', 'p99', 'max'].forEach(function (name) {
      var d = '', pen = false;
      for (var i = 0; i < bucketCount; i++) {
        if (!B.ok[i]) { pen = false; continue; }
        var px = x((i + 0.5) * B.width), py = y(Math.max(B[name][i], 1));
        d += (pen ? 'L' : 'M') + px.toFixed(1) + ',' + py.toFixed(1);
        pen = true;
      }
      if (d) { svgEl('path', { d: d, fill: 'none', stroke: colors[name], 'stroke-width': name === 'max' ? 1.2 : 1.8, 'class': 'percentile-line' }, frame.svg); drawn++; }
    });
    drawTimeAxis(frame.svg, x, margin.top + frame.plotHeight, frame.plotWidth, 'bucket: ' + fmtLatency(B.width).replace(' pos', ' positions'));
    frame.box.setAttribute('data-drawn', String(drawn));
    return colors;
  }

  // ---------- throughput stacked by outcome ----------
  function renderThroughput(container) {
    container.textContent = '';
    var margin = { left: 64, right: 14, top: 10 + faultTrackHeight(), bottom: 38 };
    var frame = chartFrame(container, 280, margin);
    frame.box.id = 'throughput-chart';
    frame.box.appendChild(frame.svg);
    var perSecond = timed ? 1e6 / B.width : 1;
    var hi = 1;
    for (var i = 0; i < bucketCount; i++) hi = Math.max(hi, (B.ok[i] + B.fail[i] + B.info[i]) * perSecond);
    var x = linearScale(0, timeEnd, margin.left, margin.left + frame.plotWidth);
    var y = linearScale(0, hi * 1.05, margin.top + frame.plotHeight, margin.top);
    var countTicks = y.ticks(5).filter(function (v) { return hi >= 10 || Number.isInteger(v); });
    drawYAxis(frame.svg, countTicks, y, margin.left, frame.plotWidth, function (v) { return v >= 10 || Number.isInteger(v) ? fmtCount(Math.round(v)) : v.toFixed(1); });
    drawFaults(frame.svg, x, margin.top, frame.plotHeight, true, margin.left, margin.left + frame.plotWidth);
    var barWidth = Math.max(x(B.width) - x(0) - 1, 1), drawn = 0;
    var g = svgEl('g', { 'class': 'bars' }, frame.svg);
    for (var b = 0; b < bucketCount; b++) {
      var base = 0;
      [['ok', 0], ['fail', 1], ['info', 2]].forEach(function (entry) {
        var count = B[entry[0]][b];
        if (!count) return;
        var y0 = y(base * perSecond), y1 = y((base + count) * perSecond);
        var rect = svgEl('rect', { x: x(b * B.width), y: y1, width: barWidth, height: Math.max(y0 - y1, 0.5), fill: OUTCOME_COLORS[entry[1]] }, g);
        svgTitle(rect, fmtTime(b * B.width) + ': ' + count + ' ' + entry[0]);
        base += count; drawn++;
      });
    }
    drawTimeAxis(frame.svg, x, margin.top + frame.plotHeight, frame.plotWidth, timed ? 'completions per second' : 'completions per bucket');
    frame.box.setAttribute('data-drawn', String(drawn));
  }

  // ---------- timeline ----------
  var timeline = null;
  function buildTimeline(section) {
    var laneCount = Math.max(data.lanes.count, 1);
    var laneHeight = Math.max(3, Math.min(18, Math.floor(560 / laneCount)));
    var axisHeight = 26, labelWidth = 64;
    var height = laneCount * laneHeight + axisHeight + 4;
    // Per-lane rows sorted by start (rows are already in start order), for hover lookups.
    var laneRows = [];
    for (var l = 0; l < laneCount; l++) laneRows.push([]);
    var maxDuration = 0, pendingRows = [];
    for (var i = 0; i < N; i++) {
      laneRows[O.l[i]].push(i);
      if (O.o[i] === 3) pendingRows.push(i); else if (O.d[i] > maxDuration) maxDuration = O.d[i];
    }
    var toolbar = el('div', { className: 'toolbar' });
    var wrap = el('div', { className: 'timeline-wrap', id: 'timeline' });
    var status = el('span', { className: 'range' });
    var tooltip = el('div', { className: 'tooltip' });
    tooltip.style.display = 'none';
    document.body.appendChild(tooltip);
    var state = { view0: 0, view1: timeEnd, selected: -1, width: 0, canvas: null, ctx: null, drawn: 0 };
    function button(text, action) { return el('button', { type: 'button', text: text, onclick: action }); }
    toolbar.appendChild(button('Zoom in', function () { zoom(0.5, 0.5); }));
    toolbar.appendChild(button('Zoom out', function () { zoom(2, 0.5); }));
    toolbar.appendChild(button('\u2190', function () { pan(-0.25); }));
    toolbar.appendChild(button('\u2192', function () { pan(0.25); }));
    toolbar.appendChild(button('Whole run', function () { state.view0 = 0; state.view1 = timeEnd; draw(); }));
    if (data.detection) {
      toolbar.appendChild(button('Moment of detection', function () {
        var span = Math.max(timeEnd / 20, timed ? 50 : 2);
        state.view0 = data.detection.time - span / 2; state.view1 = data.detection.time + span / 2;
        clampView(); draw();
      }));
    }
    toolbar.appendChild(status);
    section.appendChild(toolbar);
    section.appendChild(wrap);

    function x(t) { return labelWidth + (t - state.view0) / (state.view1 - state.view0) * (state.width - labelWidth); }
    function tAt(px) { return state.view0 + (px - labelWidth) / (state.width - labelWidth) * (state.view1 - state.view0); }
    function setup() {
      wrap.textContent = '';
      state.width = Math.max(wrap.clientWidth, 320);
      var layer = hiDpiCanvas(wrap, state.width, height);
      layer.canvas.style.position = 'relative';
      state.canvas = layer.canvas; state.ctx = layer.ctx;
      wrap.style.height = height + 'px';
    }
    function clampView() {
      var span = Math.max(state.view1 - state.view0, 2);
      var full = timeEnd * 1.02;
      if (span > full) span = full;
      if (state.view0 < -timeEnd * 0.01) state.view0 = -timeEnd * 0.01;
      state.view1 = state.view0 + span;
      if (state.view1 > full) { state.view1 = full; state.view0 = full - span; }
    }
    function zoom(factor, anchor) {
      var span = state.view1 - state.view0, at = state.view0 + span * anchor;
      var next = Math.max(span * factor, timed ? 50 : 2);
      state.view0 = at - next * anchor; state.view1 = state.view0 + next;
      clampView(); draw();
    }
    function pan(fraction) {
      var span = state.view1 - state.view0;
      state.view0 += span * fraction; state.view1 += span * fraction;
      clampView(); draw();
    }
    // The online check's moment of detection: a dashed line over every lane, labelled.
    function drawDetection(ctx, top) {
      if (!data.detection) return;
      var px = x(data.detection.time);
      if (px < labelWidth || px > state.width) return;
      wrap.setAttribute('data-detection-x', String(Math.round(px)));  // where it was last drawn
      ctx.save();
      ctx.strokeStyle = '#b3141c'; ctx.lineWidth = 2; ctx.setLineDash([5, 3]);
      ctx.beginPath(); ctx.moveTo(px, top); ctx.lineTo(px, top + laneCount * laneHeight); ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = 'bold 11px system-ui, sans-serif'; ctx.textBaseline = 'top';
      var label = 'anomaly proven online (' + data.detection.checker + ')';
      var labelWidthPx = ctx.measureText(label).width + 8;
      var left = px + labelWidthPx + 4 > state.width ? px - labelWidthPx - 4 : px + 4;
      ctx.fillStyle = 'rgba(255,255,255,0.9)'; ctx.fillRect(left, top + 2, labelWidthPx, 15);
      ctx.fillStyle = '#b3141c'; ctx.fillText(label, left + 4, top + 4);
      ctx.restore();
    }
    function firstRowFrom(t) {  // first row whose start >= t
      var lo = 0, hi = N;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (start[mid] < t) lo = mid + 1; else hi = mid; }
      return lo;
    }
    function draw() {
      var began = performance.now();
      var ctx = state.ctx, W = state.width, top = 2, plotW = W - labelWidth;
      ctx.clearRect(0, 0, W, height);
      ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, height);
      for (var lane = 0; lane < laneCount; lane++) {
        if (lane % 2) { ctx.fillStyle = '#f7f8fa'; ctx.fillRect(labelWidth, top + lane * laneHeight, plotW, laneHeight); }
      }
      // Fault windows behind the bars.
      data.faults.forEach(function (w) {
        var a = Math.max(x(w.start), labelWidth), b = Math.min(x(w.end), W);
        if (b < labelWidth || a > W) return;
        ctx.fillStyle = faultColor(w.kind);
        ctx.globalAlpha = w.instant ? 0.6 : 0.1;
        ctx.fillRect(a, top, w.instant ? 1 : Math.max(b - a, 1), laneCount * laneHeight);
      });
      ctx.globalAlpha = 1;
      var drawn = 0, visible = 0;
      // Bars narrower than a pixel: counted per lane and pixel column, then drawn
      // as one column split by the share of each outcome.
      var laneLastPx = new Float64Array(laneCount).fill(-1), laneCounts = new Uint32Array(laneCount * 4);
      var barH = Math.max(laneHeight - (laneHeight > 6 ? 3 : 1), 1);
      function flush(lane) {
        var base = lane * 4, total = laneCounts[base] + laneCounts[base + 1] + laneCounts[base + 2] + laneCounts[base + 3];
        if (!total) return;
        var y = top + lane * laneHeight + 1 + barH;
        for (var o = 0; o < 4; o++) {
          var c = laneCounts[base + o];
          if (!c) continue;
          var h = Math.max(barH * c / total, 1);
          ctx.fillStyle = OUTCOME_COLORS[o];
          ctx.fillRect(laneLastPx[lane], y - h, 1, h);
          y -= h;
          laneCounts[base + o] = 0;
        }
        drawn++;
      }
      ctx.font = '10.5px system-ui, sans-serif';
      ctx.textBaseline = 'middle';
      function drawRow(i) {
        var a = x(start[i]), b = x(end[i]);
        if (b < labelWidth || a > W) return;
        visible++;
        var lane = O.l[i], outcome = O.o[i];
        if (b - a < 1.5) {
          var px = Math.floor(Math.max(a, labelWidth));
          if (px !== laneLastPx[lane]) { flush(lane); laneLastPx[lane] = px; }
          laneCounts[lane * 4 + outcome]++;
          return;
        }
        flush(lane);
        var a1 = Math.max(a, labelWidth), b1 = Math.min(b, W);
        ctx.fillStyle = OUTCOME_COLORS[outcome];
        ctx.globalAlpha = outcome === 3 ? 0.45 : 0.9;
        ctx.fillRect(a1, top + lane * laneHeight + 1, b1 - a1, barH);
        ctx.globalAlpha = 1;
        drawn++;
        if (b1 - a1 > 46 && laneHeight >= 13) {
          ctx.save();
          ctx.beginPath(); ctx.rect(a1, top + lane * laneHeight, b1 - a1 - 2, laneHeight); ctx.clip();
          ctx.fillStyle = '#fff';
          ctx.fillText(describeOp(i), a1 + 3, top + lane * laneHeight + 1 + barH / 2);
          ctx.restore();
        }
      }
      var first = firstRowFrom(state.view0 - maxDuration), last = firstRowFrom(state.view1 + 1);
      for (var i = first; i < last; i++) if (O.o[i] !== 3) drawRow(i);
      pendingRows.forEach(function (i) { if (start[i] <= state.view1) drawRow(i); });
      for (var f = 0; f < laneCount; f++) flush(f);
      drawDetection(ctx, top);  // over the bars
      if (state.selected >= 0) {
        var s = state.selected, sa = x(start[s]), sb = Math.max(x(end[s]), sa + 2);
        ctx.strokeStyle = '#1d2330'; ctx.lineWidth = 2;
        ctx.strokeRect(sa - 2, top + O.l[s] * laneHeight - 1, sb - sa + 4, laneHeight + 2);
        ctx.fillStyle = '#1d2330';
        ctx.beginPath(); ctx.moveTo(sa, top - 1); ctx.lineTo(sa + 5, top - 1); ctx.lineTo(sa, top + 5); ctx.fill();
      }
      // Lane labels and time axis.
      ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, labelWidth, height);
      ctx.fillStyle = '#5d6778'; ctx.textAlign = 'right';
      var labelEvery = Math.ceil(12 / laneHeight);
      for (var r = 0; r < laneCount; r += labelEvery) {
        var label = data.lanes.packed ? 'lane ' + r : 'p ' + data.processes[r];
        ctx.fillText(label, labelWidth - 6, top + r * laneHeight + laneHeight / 2);
      }
      ctx.textAlign = 'center';
      var axisY = top + laneCount * laneHeight + 1;
      ctx.strokeStyle = '#c5cad3'; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(labelWidth, axisY + 0.5); ctx.lineTo(W, axisY + 0.5); ctx.stroke();
      var scale = linearScale(state.view0, state.view1, labelWidth, W);
      scale.ticks(Math.max(2, Math.floor(plotW / 110))).forEach(function (t) {
        var px = scale(t);
        ctx.beginPath(); ctx.moveTo(px, axisY); ctx.lineTo(px, axisY + 4); ctx.stroke();
        ctx.fillText(fmtTime(t, scale.step), px, axisY + 14);
      });
      ctx.textAlign = 'left';
      state.drawn = drawn;
      wrap.setAttribute('data-drawn', String(drawn));
      wrap.setAttribute('data-visible', String(visible));
      wrap.setAttribute('data-draw-ms', String(Math.round(performance.now() - began)));
      status.textContent = fmtTime(Math.max(state.view0, 0)) + ' \u2013 ' + fmtTime(Math.min(state.view1, timeEnd)) + ' \u00b7 ' +
        fmtCount(visible) + ' of ' + fmtCount(N) + ' operations in view, ' + fmtCount(drawn) + ' marks drawn';
    }
    function rowAt(px, py) {
      var lane = Math.floor((py - 2) / laneHeight);
      if (lane < 0 || lane >= laneCount || px < labelWidth) return -1;
      var t = tAt(px), slack = (state.view1 - state.view0) / (state.width - labelWidth) * 3;
      var rows = laneRows[lane], lo = 0, hi = rows.length;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (start[rows[mid]] <= t + slack) lo = mid + 1; else hi = mid; }
      var best = -1, bestDistance = Infinity;
      for (var k = lo - 1; k >= 0 && k >= lo - 64; k--) {
        var row = rows[k];
        var distance = t < start[row] ? start[row] - t : t > end[row] ? t - end[row] : 0;
        if (distance < bestDistance) { best = row; bestDistance = distance; }
        if (distance === 0) break;
      }
      return bestDistance <= slack ? best : -1;
    }
    function showTooltip(row, clientX, clientY) {
      tooltip.textContent = '';
      var f = data.functions[O.f[row]];
      tooltip.appendChild(el('div', { className: 't', text: 'op ' + opIndex[row] + ' \u00b7 process ' + processOf(row) + ' \u00b7 ' + OUTCOMES[O.o[row]] }));
      tooltip.appendChild(el('div', { text: describeOp(row) }));
      var lines = [];
      if (O.k && O.k[row]) lines.push('key ' + data.keys[O.k[row]]);
      if (O.n && O.n[row]) lines.push('node ' + data.nodes[O.n[row]]);
      if (O.e && O.e[row]) lines.push('error ' + data.errors[O.e[row]]);
      lines.push('invoked ' + fmtTime(start[row]) + (O.o[row] === 3 ? ', never completed' : ', completed ' + fmtTime(end[row]) + ' (op ' + (opIndex[row] + O.c[row]) + ')'));
      lines.push('latency ' + fmtLatency(O.d[row]) + ' \u00b7 ' + f + ' value ' + valueText(O.v[row]) + (O.o[row] !== 3 ? ', completion value ' + valueText(O.w[row]) : ''));
      lines.forEach(function (line) { tooltip.appendChild(el('div', { className: 'm', text: line })); });
      tooltip.style.display = 'block';
      var left = Math.min(clientX + 14, window.innerWidth - 470);
      tooltip.style.left = Math.max(left, 4) + 'px';
      tooltip.style.top = (clientY + 16) + 'px';
    }
    var drag = null;
    wrap.addEventListener('mousemove', function (event) {
      var rect = wrap.getBoundingClientRect(), px = event.clientX - rect.left, py = event.clientY - rect.top;
      if (drag) {
        var dt = (drag.x - px) / (state.width - labelWidth) * (drag.view1 - drag.view0);
        state.view0 = drag.view0 + dt; state.view1 = drag.view1 + dt; clampView(); draw();
        return;
      }
      var row = rowAt(px, py);
      if (row >= 0) showTooltip(row, event.clientX, event.clientY); else tooltip.style.display = 'none';
    });
    wrap.addEventListener('mouseleave', function () { tooltip.style.display = 'none'; drag = null; wrap.classList.remove('dragging'); });
    wrap.addEventListener('mousedown', function (event) {
      var rect = wrap.getBoundingClientRect();
      drag = { x: event.clientX - rect.left, view0: state.view0, view1: state.view1 };
      wrap.classList.add('dragging'); tooltip.style.display = 'none';
    });
    window.addEventListener('mouseup', function () { drag = null; wrap.classList.remove('dragging'); });
    wrap.addEventListener('wheel', function (event) {
      event.preventDefault();
      var rect = wrap.getBoundingClientRect();
      var anchor = Math.min(Math.max((event.clientX - rect.left - labelWidth) / (state.width - labelWidth), 0), 1);
      zoom(event.deltaY > 0 ? 1.25 : 0.8, anchor);
    }, { passive: false });
    wrap.addEventListener('dblclick', function (event) {
      var rect = wrap.getBoundingClientRect();
      zoom(0.4, Math.min(Math.max((event.clientX - rect.left - labelWidth) / (state.width - labelWidth), 0), 1));
    });
    setup(); draw();
    return {
      resize: function () { setup(); draw(); },
      showRange: function (t0, t1) { var pad = Math.max((t1 - t0) * 0.1, timed ? 500 : 1); state.view0 = t0 - pad; state.view1 = t1 + pad; clampView(); draw(); },
      focusRow: function (row) {
        var span = Math.max((end[row] - start[row]) * 8, timeEnd / 100, timed ? 20000 : 20);
        var middle = (start[row] + end[row]) / 2;
        state.view0 = middle - span / 2; state.view1 = middle + span / 2; state.selected = row;
        clampView(); draw();
        wrap.scrollIntoView({ block: 'center' });
      },
      hoverRow: function (row) {  // for the self-test: what a mouse over the row would show
        var rect = wrap.getBoundingClientRect();
        var px = Math.min(Math.max(x(start[row]) + 1, labelWidth + 1), state.width - 1);
        var clientX = rect.left + px;
        var clientY = rect.top + 2 + O.l[row] * laneHeight + laneHeight / 2;
        wrap.dispatchEvent(new MouseEvent('mousemove', { clientX: clientX, clientY: clientY, bubbles: true }));
        return tooltip.textContent;
      }
    };
  }
  var rowOfIndex = null;
  function rowForHistoryIndex(index) {
    if (!rowOfIndex) { rowOfIndex = new Map(); for (var i = 0; i < N; i++) rowOfIndex.set(opIndex[i], i); }
    var row = rowOfIndex.get(Number(index));
    return row === undefined ? -1 : row;
  }
  function opLink(index, text) {
    var row = rowForHistoryIndex(index);
    if (row < 0) return el('span', { text: text || ('op ' + index) });
    return el('button', { type: 'button', className: 'link op-link', 'data-op': index, text: text || ('op ' + index), onclick: function () { if (timeline) timeline.focusRow(row); } });
  }

  // ---------- anomalies ----------
  // A Porcupine-style picture of a linearizability counterexample: the stuck
  // operation, the operations concurrent with it and the last linearized ones,
  // one lane per process, with the point by which the stuck op had to take effect.
  function porcupineDiagram(anomaly) {
    var prefix = anomaly.longest_linearizable_prefix || [];
    var wanted = [anomaly.blocking_index].concat(anomaly.concurrent_indices || []).concat(prefix.slice(-6));
    var roles = {};
    roles[anomaly.blocking_index] = 'blocking';
    (anomaly.concurrent_indices || []).forEach(function (i) { if (!roles[i]) roles[i] = 'concurrent'; });
    prefix.slice(-6).forEach(function (i) { if (!roles[i]) roles[i] = 'linearized'; });
    var rows = [], seenRows = {};
    wanted.forEach(function (index) {
      var row = rowForHistoryIndex(index);
      if (row >= 0 && !seenRows[row]) { seenRows[row] = true; rows.push(row); }
    });
    if (!rows.length) return null;
    var processes = [];
    rows.forEach(function (row) { var p = processOf(row); if (processes.indexOf(p) < 0) processes.push(p); });
    processes.sort(function (a, b) { return a - b; });
    var t0 = Infinity, t1 = -Infinity;
    rows.forEach(function (row) { t0 = Math.min(t0, start[row]); t1 = Math.max(t1, O.o[row] === 3 ? start[row] + 1 : end[row]); });
    var blockingRow = rowForHistoryIndex(anomaly.blocking_index);
    if (blockingRow >= 0) t1 = Math.max(t1, end[blockingRow]);
    var app = document.getElementById('app');
    var laneH = 30, left = 70, width = Math.max(Math.min((app ? app.clientWidth : 900) - 110, 1300), 560), right = 20, topPad = 22;
    var height = topPad + processes.length * laneH + 30;
    var svg = svgEl('svg', { width: '100%', viewBox: '0 0 ' + width + ' ' + height, 'class': 'porcupine-svg', 'data-ops': rows.length });
    var span = Math.max(t1 - t0, 1), pad = span * 0.04;
    var x = linearScale(t0 - pad, t1 + pad, left, width - right);
    var colors = { blocking: '#d3343b', concurrent: '#e8a317', linearized: '#8fb8a0' };
    processes.forEach(function (p, lane) {
      var y = topPad + lane * laneH;
      svgEl('line', { x1: left, x2: width - right, y1: y + laneH / 2, y2: y + laneH / 2, stroke: '#eceef2' }, svg);
      svgEl('text', { x: left - 8, y: y + laneH / 2 + 4, 'text-anchor': 'end', text: 'p ' + p }, svg);
    });
    if (blockingRow >= 0 && O.o[blockingRow] !== 3) {
      var bx = x(end[blockingRow]);
      svgEl('line', { x1: bx, x2: bx, y1: topPad - 14, y2: height - 24, stroke: '#d3343b', 'stroke-dasharray': '4,3' }, svg);
      svgEl('text', { x: bx, y: topPad - 10, 'text-anchor': 'end', style: 'fill:#d3343b', text: 'must have taken effect by here \u25b8' }, svg);
    }
    // Where each bar lies, per lane, so a label that does not fit inside a bar
    // can go beside it when the lane has room there.
    var bars = rows.map(function (row) {
      return { row: row, lane: processes.indexOf(processOf(row)), a: x(start[row]), b: O.o[row] === 3 ? width - right : x(end[row]) };
    });
    bars.forEach(function (bar) {
      var row = bar.row, lane = bar.lane, a = bar.a, b = bar.b;
      var role = roles[opIndex[row]] || 'concurrent';
      var g = svgEl('g', { 'class': 'op ' + role, 'data-op': opIndex[row] }, svg);
      svgEl('rect', { x: a, y: topPad + lane * laneH + 4, width: Math.max(b - a, 3), height: laneH - 8, rx: 3, fill: colors[role], 'fill-opacity': role === 'linearized' ? 0.55 : 0.85, stroke: role === 'blocking' ? '#7a1016' : 'none' }, g);
      var label = describeOp(row) + (O.o[row] === 2 || O.o[row] === 3 ? ' ?' : '');
      var textWidth = label.length * 6.7 + 8;
      var leftRoom = a - left, rightRoom = width - right - b;
      bars.forEach(function (other) {
        if (other === bar || other.lane !== lane) return;
        if (other.a >= b) rightRoom = Math.min(rightRoom, other.a - b);
        if (other.b <= a) leftRoom = Math.min(leftRoom, a - other.b);
      });
      var textY = topPad + lane * laneH + laneH / 2 + 4;
      if (textWidth <= b - a) {
        svgEl('text', { x: a + 4, y: textY, style: 'fill:' + (role === 'linearized' ? '#1d2330' : '#fff'), text: label }, g);
      } else if (textWidth <= rightRoom) {
        svgEl('text', { x: b + 4, y: textY, style: 'fill:#1d2330', text: label }, g);
      } else if (textWidth <= leftRoom) {
        svgEl('text', { x: a - 4, y: textY, 'text-anchor': 'end', style: 'fill:#1d2330', text: label }, g);
      } else {
        var maxChars = Math.floor((Math.max(b - a, rightRoom) - 8) / 6.7);
        if (maxChars > 3) svgEl('text', { x: b - a >= rightRoom ? a + 4 : b + 4, y: textY, style: 'fill:' + (b - a >= rightRoom && role !== 'linearized' ? '#fff' : '#1d2330'), text: label.slice(0, maxChars - 1) + '\u2026' }, g);
      }
      svgTitle(g, 'op ' + opIndex[row] + ' (' + role + '), process ' + processOf(row) + ': ' + describeOp(row) + '\n' +
        fmtTime(start[row]) + ' \u2013 ' + (O.o[row] === 3 ? 'never completed' : fmtTime(end[row])) + '\nclick to show it in the timeline');
      g.addEventListener('click', function () { if (timeline) timeline.focusRow(row); });
    });
    var axisY = height - 22;
    svgEl('line', { x1: left, x2: width - right, y1: axisY, y2: axisY, stroke: '#c5cad3' }, svg);
    x.ticks(6).forEach(function (t) {
      svgEl('text', { x: x(t), y: axisY + 14, 'text-anchor': 'middle', text: fmtTime(t, x.step) }, svg);
    });
    var box = el('div', { className: 'porcupine' }, [svg]);
    var legend = el('div', { className: 'legend' });
    [['blocking', 'cannot be linearized'], ['concurrent', 'concurrent with it'], ['linearized', 'last linearized before it']].forEach(function (entry) {
      legend.appendChild(el('span', null, [el('span', { className: 'sw', style: 'background:' + colors[entry[0]] }), entry[1]]));
    });
    legend.appendChild(el('span', { text: '? = outcome unknown (info): may take effect later or never' }));
    box.appendChild(legend);
    return box;
  }

  function renderJsonEvidence(value) {
    // Evidence of a checker the page does not know: readable JSON, with
    // integers under keys naming operations turned into timeline links.
    var pre = el('pre', { className: 'json' });
    function walk(node, key, indent) {
      var pad = new Array(indent + 1).join('  ');
      var linky = /(^|_)(index|indices|ops?|operations?|op_index|invocation|completion)$/i.test(key || '');
      if (Array.isArray(node)) {
        if (!node.length) { pre.appendChild(document.createTextNode('[]')); return; }
        pre.appendChild(document.createTextNode('['));
        node.forEach(function (item, i) {
          pre.appendChild(document.createTextNode((i ? ',' : '') + '\n' + pad + '  '));
          walk(item, key, indent + 1);
        });
        pre.appendChild(document.createTextNode('\n' + pad + ']'));
      } else if (node && typeof node === 'object') {
        var keys = Object.keys(node);
        if (!keys.length) { pre.appendChild(document.createTextNode('{}')); return; }
        pre.appendChild(document.createTextNode('{'));
        keys.forEach(function (k, i) {
          pre.appendChild(document.createTextNode((i ? ',' : '') + '\n' + pad + '  ' + JSON.stringify(k) + ': '));
          walk(node[k], k, indent + 1);
        });
        pre.appendChild(document.createTextNode('\n' + pad + '}'));
      } else if (linky && typeof node === 'number' && Number.isInteger(node) && rowForHistoryIndex(node) >= 0) {
        pre.appendChild(opLink(node, String(node)));
      } else {
        pre.appendChild(document.createTextNode(JSON.stringify(node)));
      }
    }
    walk(value, '', 0);
    return pre;
  }

  function renderLinearizabilityAnomaly(anomaly) {
    var box = el('div', { className: 'anomaly' + (anomaly.verdict === 'invalid' ? '' : ' unknown') });
    box.appendChild(el('h3', null, [verdictBadge(anomaly.verdict), ' ', anomaly.key ? 'key ' + anomaly.key : 'the whole history']));
    box.appendChild(el('div', { text: anomaly.reason || '' }));
    if (anomaly.verdict !== 'invalid') return box;
    var dl = el('dl');
    function item(label, content) { dl.appendChild(el('dt', { text: label })); dl.appendChild(el('dd', null, [content])); }
    item('cannot be linearized', el('span', null, [opLink(anomaly.blocking_index, anomaly.blocking_operation || ('op ' + anomaly.blocking_index))]));
    var states = el('span');
    (anomaly.states_before || []).forEach(function (s) { states.appendChild(el('span', { className: 'chip', text: s })); });
    if (!(anomaly.states_before || []).length) states.textContent = 'none recorded';
    item('possible states just before it', states);
    var list = el('ul', { className: 'oplist' });
    var texts = anomaly.concurrent_operations || [];
    (anomaly.concurrent_indices || []).forEach(function (index, i) { list.appendChild(el('li', null, [opLink(index, texts[i] || ('op ' + index))])); });
    if (!list.childNodes.length) list.appendChild(el('li', { text: 'none' }));
    item('concurrent operations', list);
    var prefix = anomaly.longest_linearizable_prefix || [];
    var tail = el('span', { text: prefix.length + ' operations linearized before the search got stuck' + (prefix.length ? '; the last: ' : '') });
    prefix.slice(-5).forEach(function (index, i) { if (i) tail.appendChild(document.createTextNode(', ')); tail.appendChild(opLink(index)); });
    item('longest linearizable prefix', tail);
    box.appendChild(dl);
    var diagram = porcupineDiagram(anomaly);
    if (diagram) box.appendChild(diagram);
    return box;
  }

  // An Elle cycle as a picture, built by the page (no Graphviz): the txns on a
  // circle in cycle order, one curved arrow per dependency, coloured by kind
  // and labelled ww / wr / rw / process / realtime; hovering an arrow shows its
  // reason, clicking a txn opens it on the timeline.
  var EDGE_COLORS = { ww: '#c02700', wr: '#c000a5', rw: '#5b00c0', realtime: '#0050c0', process: '#00854b' };
  var cycleDiagrams = 0;
  function cycleDiagram(cycle) {
    var nodes = [];
    cycle.forEach(function (step) {
      [step.from, step.to].forEach(function (index) { if (nodes.indexOf(index) < 0) nodes.push(index); });
    });
    var n = nodes.length;
    if (n < 2) return null;
    var nodeW = 236, nodeH = 40, rx = nodeW / 2, ry = nodeH / 2;
    // On an ellipse wide enough that neighbouring labels do not overlap.
    var radiusX = Math.max(nodeW / 2 + 70, n * nodeW * 1.2 / (2 * Math.PI));
    var radiusY = n === 2 ? 0 : Math.max(95, n * nodeH * 2.4 / (2 * Math.PI));
    var width = 2 * radiusX + nodeW + 40, height = n === 2 ? nodeH + 130 : 2 * radiusY + nodeH + 60;
    var cx = width / 2, cy = height / 2;
    var position = {};
    nodes.forEach(function (index, i) {
      var angle = n === 2 ? Math.PI * (1 - i) : -Math.PI / 2 + 2 * Math.PI * i / n;
      position[index] = { x: cx + radiusX * Math.cos(angle), y: cy + radiusY * Math.sin(angle) };
    });
    var id = 'cycle' + (++cycleDiagrams);
    var svg = svgEl('svg', { width: Math.min(width, 900), viewBox: '0 0 ' + width + ' ' + height, 'class': 'cycle-svg', 'data-nodes': n, 'data-edges': cycle.length });
    var defs = svgEl('defs', {}, svg);
    Object.keys(EDGE_COLORS).forEach(function (kind) {
      var marker = svgEl('marker', { id: id + '-' + kind, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
      svgEl('path', { d: 'M0,0 L10,5 L0,10 z', fill: EDGE_COLORS[kind] }, marker);
    });
    // The point where the ray from a node's centre towards (tx, ty) leaves its ellipse.
    function rim(center, tx, ty) {
      var dx = tx - center.x, dy = ty - center.y;
      var t = 1 / Math.sqrt((dx * dx) / (rx * rx) + (dy * dy) / (ry * ry) || 1);
      return { x: center.x + dx * t, y: center.y + dy * t };
    }
    cycle.forEach(function (step) {
      var p = position[step.from], q = position[step.to];
      var dx = q.x - p.x, dy = q.y - p.y, length = Math.sqrt(dx * dx + dy * dy) || 1;
      var bend = Math.max(26, length * 0.16);
      var control = { x: (p.x + q.x) / 2 - dy / length * bend, y: (p.y + q.y) / 2 + dx / length * bend };
      var a = rim(p, control.x, control.y), b = rim(q, control.x, control.y);
      var color = EDGE_COLORS[step.kind] || '#555';
      var g = svgEl('g', { 'class': 'cycle-edge', 'data-kind': step.kind }, svg);
      svgTitle(g, step.explanation || step.kind);
      svgEl('path', { d: 'M' + a.x + ',' + a.y + ' Q' + control.x + ',' + control.y + ' ' + b.x + ',' + b.y, fill: 'none', stroke: color, 'stroke-width': 2, 'marker-end': EDGE_COLORS[step.kind] ? 'url(#' + id + '-' + step.kind + ')' : null }, g);
      var mx = 0.25 * a.x + 0.5 * control.x + 0.25 * b.x, my = 0.25 * a.y + 0.5 * control.y + 0.25 * b.y;
      var labelW = step.kind.length * 7 + 10;
      svgEl('rect', { x: mx - labelW / 2, y: my - 9, width: labelW, height: 17, rx: 4, fill: '#fff', stroke: color }, g);
      svgEl('text', { x: mx, y: my + 4, 'text-anchor': 'middle', style: 'fill:' + color, text: step.kind }, g);
    });
    nodes.forEach(function (index) {
      var row = rowForHistoryIndex(index), at = position[index];
      var g = svgEl('g', { 'class': 'cycle-txn', 'data-op': index }, svg);
      svgEl('ellipse', { cx: at.x, cy: at.y, rx: rx, ry: ry, fill: '#f4f6fb', stroke: '#39425a' }, g);
      svgEl('text', { x: at.x, y: at.y - 3, 'text-anchor': 'middle', 'font-weight': 650, text: 'op ' + index + (row >= 0 ? ' \u00b7 p ' + processOf(row) : '') }, g);
      if (row >= 0) {
        var text = describeOp(row);
        // What the txn did as it completed (reads filled in), else as invoked.
        var value = valueText(O.o[row] === 0 ? O.w[row] : O.v[row]);
        svgEl('text', { x: at.x, y: at.y + 12, 'text-anchor': 'middle', 'class': 'txn-value', text: value.length > 34 ? value.slice(0, 33) + '\u2026' : value }, g);
        svgTitle(g, 'op ' + index + ': ' + text);
        g.addEventListener('click', function () { if (timeline) timeline.focusRow(row); });
      }
    });
    var box = el('div', { className: 'cycle' }, [svg]);
    var legend = el('div', { className: 'legend' });
    var kinds = [];
    cycle.forEach(function (step) { if (kinds.indexOf(step.kind) < 0) kinds.push(step.kind); });
    var meaning = { ww: 'wrote the next version', wr: 'its write was read by', rw: 'read a version the next overwrote', process: 'same process, later', realtime: 'completed before the next began' };
    kinds.forEach(function (kind) {
      legend.appendChild(el('span', null, [el('span', { className: 'sw', style: 'background:' + (EDGE_COLORS[kind] || '#555') }), kind + (meaning[kind] ? ': ' + meaning[kind] : '')]));
    });
    box.appendChild(legend);
    return box;
  }

  // One anomaly of an Elle checker (elle-list-append, elle-rw-register): its
  // type, why, the cycle drawn and each edge with its reason.
  function renderElleAnomaly(anomaly) {
    var box = el('div', { className: 'anomaly' + (anomaly.forbidden === false ? ' unknown' : ''), 'data-anomaly': anomaly.type });
    box.appendChild(el('h3', null, [anomaly.type, anomaly.forbidden === false ? ' (allowed by the model checked)' : '']));
    var cycle = anomaly.cycle || [];
    if (!cycle.length) {
      box.appendChild(el('div', { text: anomaly.explanation || '' }));
      var ops = el('ul', { className: 'oplist' });
      (anomaly.indices || []).forEach(function (index) {
        var row = rowForHistoryIndex(index);
        ops.appendChild(el('li', null, [opLink(index, 'op ' + index + (row >= 0 ? ': ' + describeOp(row) : ''))]));
      });
      if ((anomaly.indices || []).length) box.appendChild(ops);
      return box;
    }
    // The explanation is a summary followed by every step's reason; the steps are listed below.
    var explanation = anomaly.explanation || '', cut = explanation.indexOf(cycle[0].explanation || '\u0000');
    box.appendChild(el('div', { text: cut > 0 ? explanation.slice(0, cut).trim() : explanation }));
    var diagram = cycleDiagram(cycle);
    if (diagram) box.appendChild(diagram);
    var steps = el('ol', { className: 'oplist cycle-steps' });
    cycle.forEach(function (step) {
      steps.appendChild(el('li', null, [opLink(step.from), ' \u2192 ', opLink(step.to),
        el('b', { style: 'color:' + (EDGE_COLORS[step.kind] || '#555'), text: ' ' + step.kind + ' ' }), step.explanation || '']));
    });
    box.appendChild(steps);
    return box;
  }

  function isElleResult(details) {
    return Array.isArray(details.anomalies) && details.anomaly_counts !== undefined && details.consistency_model !== undefined;
  }

  function renderAnomalies(main) {
    var bad = data.checkers.filter(function (c) { return c.verdict !== 'valid'; });
    if (!bad.length) return;
    var section = card('Why the verdict is not valid', 'Evidence from each checker that did not say valid. Operation links jump to the timeline below.');
    section.id = 'anomalies';
    bad.forEach(function (checker) {
      var head = el('h3', null, [checker.name + ' ', verdictBadge(checker.verdict)]);
      head.style.margin = '14px 0 4px';
      section.appendChild(head);
      section.appendChild(el('div', { text: checker.reason || '' }));
      var details = checker.details || {};
      if ((checker.name === 'linearizable' || details.checker === 'linearizable') && Array.isArray(details.anomalies)) {
        details.anomalies.forEach(function (anomaly) { section.appendChild(renderLinearizabilityAnomaly(anomaly)); });
        if (details.partitions_not_checked) {
          section.appendChild(el('p', { className: 'note', text: details.partitions_not_checked + ' other partition(s) were not checked once one was invalid (use --all-keys to check them all).' }));
        }
      } else if (isElleResult(details)) {
        if ((details.models_ruled_out || []).length) {
          section.appendChild(el('div', { className: 'note', text: 'ruled out: ' + details.models_ruled_out.join(', ') }));
        }
        details.anomalies.forEach(function (anomaly) { section.appendChild(renderElleAnomaly(anomaly)); });
        section.appendChild(el('details', { className: 'json' }, [el('summary', { text: 'all evidence (JSON)' }), renderJsonEvidence(details)]));
      } else {
        var more = el('details', { className: 'json', open: '' }, [el('summary', { text: 'evidence' }), renderJsonEvidence(details)]);
        section.appendChild(more);
      }
    });
    main.appendChild(section);
  }

  // ---------- header ----------
  function renderHeader(main) {
    var run = data.run;
    var header = el('header', { className: 'top' });
    var title = el('h1', null, [String(run.test || 'chaosbench run'), verdictBadge(data.verdict, true)]);
    if (run.interrupted) title.appendChild(el('span', { className: 'flag', text: 'interrupted' }));
    if (run.harness_failed) title.appendChild(el('span', { className: 'flag', text: 'harness failed' }));
    header.appendChild(title);
    if (run.harness_failure_reason) header.appendChild(el('p', { className: 'harness-failure', id: 'harness-failure', text: 'harness failed: ' + run.harness_failure_reason }));
    if (run.not_a_test_reason) header.appendChild(el('p', { className: 'harness-failure', id: 'not-a-test', text: 'not a valid test: ' + run.not_a_test_reason }));
    header.appendChild(el('div', { className: 'sub', text: String(run.directory || '') + (run.started_at ? ' \u00b7 started ' + run.started_at : '') + (run.version ? ' \u00b7 ' + run.version : '') }));
    var checkers = el('div', { className: 'checkers', id: 'checker-verdicts' });
    data.checkers.forEach(function (c) {
      checkers.appendChild(el('div', { className: 'checker', 'data-verdict': c.verdict }, [el('span', { className: 'name', text: c.name }), verdictBadge(c.verdict), el('span', { className: 'reason', text: c.reason || '' })]));
    });
    if (!data.checkers.length) checkers.appendChild(el('div', { className: 'checker', text: 'results.json names no checkers' }));
    header.appendChild(checkers);
    var meta = el('dl', { className: 'meta' });
    function field(label, value) {
      if (value === undefined || value === null || value === '') return;
      meta.appendChild(el('div', null, [el('dt', { text: label }), el('dd', { text: typeof value === 'object' ? JSON.stringify(value) : String(value) })]));
    }
    field('target', run.target); field('workload', run.workload); field('nemesis', run.nemesis); field('seed', run.seed);
    field('duration', timed ? (run.duration_seconds || 0).toFixed(1) + ' s' : (run.duration_seconds ? run.duration_seconds.toFixed(1) + ' s' : N + ' ops (untimed history)'));
    field('nodes', run.nodes); field('concurrency', run.concurrency); field('rate', run.rate);
    field('nemesis interval', run.nemesis_interval);
    header.appendChild(meta);
    if (run.command_line) {
      var pre = el('pre', { text: run.command_line, id: 'command-line' });
      var copy = el('button', { type: 'button', text: 'copy', onclick: function () {
        var done = function () { copy.textContent = 'copied'; };
        if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(run.command_line).then(done, function () { window.getSelection().selectAllChildren(pre); });
        else window.getSelection().selectAllChildren(pre);
      } });
      header.appendChild(el('div', { className: 'cmd' }, [pre, copy]));
    }
    main.appendChild(header);
  }

  function renderStats(main) {
    var s = data.summary;
    var stats = el('div', { className: 'stats' });
    function stat(value, label) { stats.appendChild(el('div', { className: 'stat' }, [el('b', { text: value }), el('span', { text: label })])); }
    stat(fmtCount(s.operations), 'operations');
    stat(fmtCount(s.ok), 'ok');
    stat(fmtCount(s.fail), 'fail');
    stat(fmtCount(s.info + s.pending), 'info' + (s.pending ? ' (' + fmtCount(s.pending) + ' never completed)' : ''));
    if (s.p50 !== undefined) { stat(fmtLatency(s.p50), 'p50 latency (ok)'); stat(fmtLatency(s.p99), 'p99 latency (ok)'); stat(fmtLatency(s.max), 'max latency (ok)'); }
    var measured = data.results_latency;
    if (measured && typeof measured.p99_ms === 'number') stat(measured.p99_ms.toFixed(1) + ' ms', 'p99 from intended send (results.json)');
    if (timed && data.run.duration_seconds > 0) stat((s.ok / data.run.duration_seconds).toFixed(0) + '/s', 'ok throughput');
    var faultCount = data.faults.filter(function (w) { return !w.instant; }).length;
    stat(String(faultCount), 'fault windows');
    if (data.detection) {
      stat(fmtTime(data.detection.time), 'anomaly proven online' + (data.detection.stopped_early ? ' (run stopped)' : ''));
    }
    main.appendChild(stats);
  }

  // ---------- availability ----------
  function renderAvailability(main) {
    var section = card('Availability per fault window', 'Share of client operations completing while each fault was active that were ok (fail and info count against it). A fault window runs from the nemesis op that started it to the completion of the one that stopped it.');
    section.id = 'availability';
    var table = el('table', { className: 'data' });
    table.appendChild(el('thead', null, [el('tr', null, ['fault', 'what', 'from', 'to', 'ok', 'fail', 'info', 'availability'].map(function (h, i) { return el('th', { text: h, style: i >= 4 && i <= 6 ? 'text-align:right' : null }); }))]));
    var body = el('tbody');
    data.availability.forEach(function (entry) {
      var w = entry.window >= 0 ? data.faults[entry.window] : null;
      var tr = el('tr', { className: w ? 'clickable' : '' });
      var kind = w ? el('span', { className: 'kind', style: 'background:' + faultColor(w.kind), text: w.kind }) : el('span', { className: 'kind', style: 'background:#6b7280', text: 'no fault' });
      tr.appendChild(el('td', null, [kind]));
      tr.appendChild(el('td', { text: w ? (w.label || w.f) + (w.failed ? ' (nemesis error)' : '') : 'outside every fault window' }));
      tr.appendChild(el('td', { className: 'num', text: w ? fmtTime(w.start) : '' }));
      tr.appendChild(el('td', { className: 'num', text: w ? fmtTime(w.end) + (w.open ? ' (open)' : '') : '' }));
      tr.appendChild(el('td', { className: 'num', text: fmtCount(entry.ok) }));
      tr.appendChild(el('td', { className: 'num', text: fmtCount(entry.fail) }));
      tr.appendChild(el('td', { className: 'num', text: fmtCount(entry.info) }));
      var total = entry.ok + entry.fail + entry.info;
      var bar = el('div', { className: 'bar', title: total ? '' : 'no operation completed' });
      var fill = el('i'); fill.style.width = (total ? entry.ratio * 100 : 0) + '%';
      bar.appendChild(fill);
      tr.appendChild(el('td', null, [el('div', { style: 'display:flex;gap:8px;align-items:center' }, [bar, el('span', { className: 'num', text: total ? (entry.ratio * 100).toFixed(1) + '%' : 'n/a' })])]));
      if (w) tr.addEventListener('click', function () { if (timeline) { timeline.showRange(w.start, w.end); document.getElementById('timeline').scrollIntoView({ block: 'center' }); } });
      body.appendChild(tr);
    });
    table.appendChild(body);
    section.appendChild(table);
    var events = data.faults.filter(function (w) { return w.instant; });
    if (events.length) section.appendChild(el('p', { className: 'note', text: events.length + ' other nemesis event(s) are drawn as dashed lines: ' + events.slice(0, 8).map(function (w) { return w.f + ' at ' + fmtTime(w.start); }).join(', ') + (events.length > 8 ? ', \u2026' : '') }));
    main.appendChild(section);
  }

  function renderNodeLogs(main) {
    if (!data.node_logs.length) return;
    var section = card('Node logs', 'Each node\u2019s log in the run directory. A log\u2019s tail is shown here when the node looks like it crashed or failed to start.');
    section.id = 'node-logs';
    var table = el('table', { className: 'data' });
    var body = el('tbody');
    data.node_logs.forEach(function (log) {
      var link = log.exists ? el('a', { href: 'nodes/' + encodeURIComponent(log.node) + '/log', text: 'nodes/' + log.node + '/log' }) : el('span', { text: 'no log' });
      body.appendChild(el('tr', null, [el('td', { text: log.node }), el('td', null, [link]), el('td', { className: 'num', text: log.exists ? fmtCount(log.size) + ' bytes' : '' }), el('td', { text: log.tail !== undefined ? log.tail_reason : '' })]));
      if (log.tail !== undefined && log.tail !== '') {
        body.appendChild(el('tr', null, [el('td', { colspan: 4 }, [el('details', { open: '' }, [el('summary', { text: 'last lines of ' + log.node + '\u2019s log' }), el('pre', { className: 'log', text: log.tail })])])]));
      }
    });
    table.appendChild(body);
    section.appendChild(table);
    main.appendChild(section);
  }

  // ---------- page ----------
  function render() {
    var main = document.getElementById('app');
    renderHeader(main);
    renderStats(main);
    renderAnomalies(main);

    var big = N > 200000;
    var latency = card('Latency over time', 'Every operation is a mark at its invocation time, its height the time to its completion (log scale); colour is the operation, shape the outcome. Shaded bands are fault windows.' +
      (big ? ' Large history: marks landing on a pixel already drawn with the same colour and shape are skipped.' : '') + (timed ? '' : ' This history has no timestamps: time is the position in the history.'));
    latency.id = 'latency';
    latency.appendChild(latencyLegend());
    var latencyBox = el('div');
    latency.appendChild(latencyBox);
    main.appendChild(latency);

    var grid = el('div', { className: 'grid2' });
    var percentiles = card('Latency percentiles', 'Per time bucket, over the ok operations that completed in it.');
    percentiles.id = 'percentiles';
    var percentileLegend = el('div', { className: 'legend' });
    percentiles.appendChild(percentileLegend);
    var percentileBox = el('div');
    percentiles.appendChild(percentileBox);
    var throughput = card('Throughput', 'Completions per second in each time bucket, stacked by outcome; operations still running when the history ended are not counted.');
    throughput.id = 'throughput';
    var tlegend = el('div', { className: 'legend' });
    ['ok', 'fail', 'info'].forEach(function (name, i) { tlegend.appendChild(el('span', null, [el('span', { className: 'sw', style: 'background:' + OUTCOME_COLORS[i] }), name])); });
    throughput.appendChild(tlegend);
    var throughputBox = el('div');
    throughput.appendChild(throughputBox);
    grid.appendChild(percentiles); grid.appendChild(throughput);
    main.appendChild(grid);

    renderAvailability(main);

    var timelineCard = card('Timeline', 'One lane per process' + (data.lanes.packed ? ' (there are ' + fmtCount(data.processes.length) + ' processes, so processes that never overlap share a lane)' : '') +
      '; bars run from invocation to completion, coloured by outcome (green ok, red fail, amber info, grey never completed). Scroll to zoom, drag to pan, hover for the operation. Only operations in view are drawn, and bars narrower than a pixel are merged per lane into one column split by the share of each outcome, so it stays fast for a million operations.');
    timelineCard.id = 'timeline-card';
    main.appendChild(timelineCard);
    renderNodeLogs(main);
    main.appendChild(el('footer', { text: 'chaosbench report \u00b7 ' + fmtCount(N) + ' operations \u00b7 self-contained: no network access' }));

    function drawCharts() {
      renderLatency(latencyBox);
      var colors = renderPercentiles(percentileBox);
      percentileLegend.textContent = '';
      Object.keys(colors).forEach(function (name) { percentileLegend.appendChild(el('span', null, [el('span', { className: 'sw', style: 'background:' + colors[name] }), name])); });
      renderThroughput(throughputBox);
    }
    drawCharts();
    timeline = buildTimeline(timelineCard);
    var lastWidth = document.body.clientWidth, pending = null;
    window.addEventListener('resize', function () {
      if (document.body.clientWidth === lastWidth) return;
      lastWidth = document.body.clientWidth;
      clearTimeout(pending);
      pending = setTimeout(function () { try { drawCharts(); timeline.resize(); } catch (error) { recordError(error && error.stack || error); } }, 150);
    });
  }

  // A self-check the browser test runs (report.html#selftest): hover a timeline
  // bar and follow an anomaly link; results land in data- attributes.
  function selfTest() {
    var body = document.body;
    if (N && timeline) {
      var text = timeline.hoverRow(Math.floor(N / 2));
      body.setAttribute('data-selftest-hover', text && text.indexOf('op ') === 0 ? 'ok' : 'failed: ' + text);
    }
    if (N && timeline) {
      timeline.showRange(start[Math.floor(N / 2)], start[Math.floor(N / 2)] + (timed ? 200000 : 50));
      body.setAttribute('data-selftest-zoom-ms', document.getElementById('timeline').getAttribute('data-draw-ms'));
    }
    var link = document.querySelector('.op-link');
    if (link) {
      link.click();
      var wrap = document.getElementById('timeline');
      body.setAttribute('data-selftest-focus', wrap && Number(wrap.getAttribute('data-drawn')) > 0 ? 'ok' : 'failed');
    }
  }

  try {
    render();
    document.body.setAttribute('data-render-ms', String(Math.round(performance.now() - scriptStart)));
    if (location.hash === '#selftest') selfTest();
    var linked = /^#op=(\d+)$/.exec(location.hash);  // report.html#op=N opens the timeline at op N
    if (linked && timeline && rowForHistoryIndex(linked[1]) >= 0) timeline.focusRow(rowForHistoryIndex(linked[1]));
    document.body.setAttribute('data-rendered', 'true');
  } catch (error) {
    recordError(error && error.stack ? error.stack : error);
  }
})();
