/**
 * Dashboard script, part 5: a task's DAG as SVG, layered by longest path from the roots, left to
 * right, scaled to fit its panel. Shares its function scope with the other parts.
 */
export const DASHBOARD_GRAPH_SCRIPT = String.raw`
var SVGNS = 'http://www.w3.org/2000/svg';
var G = { W: 184, H: 50, GX: 56, GY: 18, PAD: 12 };

function svg(tag, attrs, kids) {
  var e = document.createElementNS(SVGNS, tag);
  Object.keys(attrs || {}).forEach(function (k) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, String(attrs[k])); });
  (kids || []).forEach(function (c) { e.append(c); });
  return e;
}

function layout(nodes, edges) {
  var parents = new Map(nodes.map(function (n) { return [n.id, []]; }));
  edges.forEach(function (e) { if (parents.has(e.from) && parents.has(e.to)) parents.get(e.to).push(e.from); });
  var level = new Map();
  function depth(id, path) {
    if (level.has(id)) return level.get(id);
    if (path.has(id)) return 0; // a cycle cannot be registered; this only guards against looping
    path.add(id);
    var d = 0;
    parents.get(id).forEach(function (p) { d = Math.max(d, depth(p, path) + 1); });
    path.delete(id);
    level.set(id, d);
    return d;
  }
  nodes.forEach(function (n) { depth(n.id, new Set()); });
  var cols = [];
  nodes.forEach(function (n) { var l = level.get(n.id); (cols[l] = cols[l] || []).push(n); });
  cols = cols.filter(Boolean);
  var rows = Math.max.apply(null, cols.map(function (c) { return c.length; }));
  var pos = new Map();
  cols.forEach(function (col, c) {
    // Order each column by the mean height of its parents (fewer crossings), then centre it.
    var mean = new Map(col.map(function (n) {
      var ps = parents.get(n.id).filter(function (p) { return pos.has(p); });
      return [n.id, ps.length ? ps.reduce(function (a, p) { return a + pos.get(p).y; }, 0) / ps.length : 0];
    }));
    if (c > 0) col.sort(function (a, b) { return mean.get(a.id) - mean.get(b.id); });
    var top = G.PAD + ((rows - col.length) * (G.H + G.GY)) / 2;
    col.forEach(function (n, i) { pos.set(n.id, { x: G.PAD + c * (G.W + G.GX), y: top + i * (G.H + G.GY) }); });
  });
  return { pos: pos, width: 2 * G.PAD + cols.length * G.W + (cols.length - 1) * G.GX, height: 2 * G.PAD + rows * G.H + (rows - 1) * G.GY };
}

function renderGraph(g) {
  var box = $('task-graph');
  var nodes = g.nodes || [];
  var edges = g.edges || [];
  $('task-mermaid').replaceChildren(g.mermaid ? details('mermaid', 'Mermaid source', g.mermaid) : '');
  if (!nodes.length) { box.replaceChildren(h('p', { class: 'muted', text: 'This task has no steps.' })); return; }
  // A third line under the state when a node has more to say: a map step's counts, what holds a step.
  function more(n) { return n.instances ? countsText(n.instances) : n.reason || ''; }
  G.H = nodes.some(function (n) { return more(n); }) ? 66 : 50;
  var L = layout(nodes, edges);
  // As wide as the panel and never wider: a wide graph scales down (viewBox) instead of being cut off.
  var root = svg('svg', { width: '100%', viewBox: '0 0 ' + L.width + ' ' + L.height, preserveAspectRatio: 'xMinYMin meet', role: 'img', 'aria-label': 'Step graph', 'data-testid': 'graph-svg' }, [
    svg('defs', {}, [svg('marker', { id: 'tasker-arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, [
      svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#9ca3af' }),
    ])]),
  ]);
  root.style.maxWidth = L.width + 'px';
  edges.forEach(function (e) {
    var a = L.pos.get(e.from);
    var b = L.pos.get(e.to);
    if (!a || !b) return;
    var x1 = a.x + G.W, y1 = a.y + G.H / 2, x2 = b.x, y2 = b.y + G.H / 2, mx = (x1 + x2) / 2;
    root.append(svg('path', { class: e.kind === 'instance' ? 'edge instance' : 'edge', 'data-from': e.from, 'data-to': e.to, 'marker-end': 'url(#tasker-arrow)',
      d: 'M' + x1 + ',' + y1 + ' C' + mx + ',' + y1 + ' ' + mx + ',' + y2 + ' ' + x2 + ',' + y2 }));
  });
  nodes.forEach(function (n) {
    var p = L.pos.get(n.id);
    var state = n.state || 'pending';
    var full = n.instances ? n.id + ' \u00d7' + n.instances.total : n.id;
    var name = full.length > 24 ? full.slice(0, 23) + '\u2026' : full;
    var tries = n.attempts === undefined ? '' : ' \u00b7 ' + n.attempts + '/' + n.retryLimit;
    var extra = more(n);
    var node = svg('g', { class: 'node s-' + state + (n.mapOf !== undefined ? ' instance' : ''), 'data-testid': 'graph-node', 'data-step': n.id, 'data-state': state, transform: 'translate(' + p.x + ',' + p.y + ')' }, [
      svg('title', { text: (n.label || n.id) + ': ' + state + (n.attempts === undefined ? '' : ' (attempts ' + n.attempts + ' of ' + n.retryLimit + ')') + (n.reason ? '; ' + n.reason : '') }),
      svg('rect', { width: G.W, height: G.H, rx: 8 }),
      svg('text', { x: 10, y: 20, text: name }),
      svg('text', { x: 10, y: 38, class: 'sub', text: state + tries }),
    ]);
    if (extra) node.append(svg('text', { x: 10, y: 55, class: 'sub', 'data-testid': 'graph-node-detail', text: extra.length > 30 ? extra.slice(0, 29) + '\u2026' : extra }));
    node.addEventListener('click', function () { focusStep(n.id); });
    root.append(node);
  });
  box.replaceChildren(root);
}

function focusStep(name) {
  var row = Array.prototype.find.call($('steps-body').querySelectorAll('tr[data-testid="step-row"], tr[data-testid="instance-row"]'), function (r) { return r.getAttribute('data-step') === name; });
  if (!row) return;
  row.scrollIntoView({ block: 'center', behavior: 'smooth' });
  row.classList.remove('flash');
  void row.offsetWidth;
  row.classList.add('flash');
}
`;
