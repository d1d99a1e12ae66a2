/**
 * Dashboard script, part 2: one task (fields, context, steps, errors, results), its DAG as SVG,
 * the audit trail and the operator actions. Shares its function scope with dashboard.core.script.ts.
 */
export const DASHBOARD_TASK_SCRIPT = String.raw`
var SVGNS = 'http://www.w3.org/2000/svg';
var G = { W: 184, H: 50, GX: 56, GY: 18, PAD: 12 };
var ACTIONS = {
  retry: { hint: 'Steps in error go back to pending with a fresh attempt budget; completed steps never run again.', done: 'Retry requested.' },
  cancel: { hint: 'No further step starts; running steps are signalled to stop; pending steps become cancelled.', done: 'Task cancelled.' },
  resolve: { hint: 'The step becomes resolved_manually with the results below; its dependents receive them as its output.', done: 'Step resolved.' },
};

function initTaskView() {
  $('retry-task').addEventListener('click', function () { openAction('retry'); });
  $('cancel-task').addEventListener('click', function () { openAction('cancel'); });
  $('action-form').addEventListener('submit', confirmAction);
  $('action-close').addEventListener('click', function () { $('action-dialog').close(); });
}

function openTask(id) {
  $('list-view').hidden = true;
  $('task-view').hidden = false;
  if (S.taskId !== id) {
    S.taskId = id;
    S.task = null;
    S.open = new Set();
    $('task-title').textContent = 'Task ' + id;
    $('task-type').textContent = 'loading\u2026';
    $('task-state').hidden = true;
    ['task-fields', 'task-context', 'task-graph', 'task-mermaid', 'steps-body', 'audit-body'].forEach(function (x) { $(x).replaceChildren(); });
    message($('task-message'), '');
    message($('action-message'), '');
    $('retry-task').disabled = true;
    $('cancel-task').disabled = true;
  }
  loadTask();
}

async function loadTask() {
  var id = S.taskId;
  if (!id) return;
  var seq = ++S.taskSeq;
  var p = '/tasks/' + encodeURIComponent(id);
  var r;
  try { r = await Promise.all([api('GET', p), api('GET', p + '/graph'), api('GET', p + '/audit')]); } catch (e) {
    if (seq === S.taskSeq && id === S.taskId && e.status !== 401) message($('task-message'), describe(e), 'error');
    return;
  }
  if (seq !== S.taskSeq || id !== S.taskId) return;
  message($('task-message'), '');
  S.task = r[0];
  renderTask(r[0]);
  renderGraph(r[1]);
  renderAudit(r[2]);
}

/** Operator-only controls: disabled with an explanation for a viewer key. */
function guard(btn, hint) {
  var operator = S.me && S.me.role === 'operator';
  btn.disabled = !operator;
  btn.title = operator ? hint : 'Your API key "' + S.me.name + '" has the viewer role; this action needs an operator key.';
}

/** A collapsible block whose open/closed state survives re-rendering (auto-refresh). */
function details(key, summary, text) {
  var d = h('details', { 'data-key': key }, [h('summary', { text: summary }), h('pre', { text: text })]);
  d.open = S.open.has(key);
  d.addEventListener('toggle', function () { if (d.open) S.open.add(key); else S.open.delete(key); });
  return d;
}

function renderTask(t) {
  var st = $('task-state');
  st.hidden = false;
  st.className = 'badge s-' + t.state;
  st.setAttribute('data-state', t.state);
  st.textContent = t.state;
  $('task-title').textContent = 'Task ' + t.id;
  $('task-type').textContent = taskType(t);
  var fields = [
    ['ID', t.id], ['Namespace', t.namespace], ['Name', t.name], ['Version', t.version],
    ['Created', fmtTime(t.createdAt)], ['Updated', fmtTime(t.updatedAt)], ['Completed', fmtTime(t.completedAt)],
    ['Run at', fmtTime(t.runAt)], ['Initiator', t.initiator], ['Source system', t.sourceSystem], ['Reason', t.reason],
    ['Tags', (t.tags || []).join(', ')], ['Idempotency key', t.idempotencyKey],
  ];
  var dl = [];
  fields.forEach(function (f) { if (f[1]) dl.push(h('dt', { text: f[0] }), h('dd', { text: f[1] })); });
  $('task-fields').replaceChildren.apply($('task-fields'), dl);
  $('task-context').textContent = JSON.stringify(t.context || {}, null, 2);
  guard($('retry-task'), ACTIONS.retry.hint);
  guard($('cancel-task'), ACTIONS.cancel.hint);
  $('retry-task').classList.toggle('primary', t.state === 'error');
  $('readonly-note').hidden = S.me.role === 'operator';
  var rows = [];
  (t.steps || []).forEach(function (s) { rows.push.apply(rows, stepRows(s)); });
  if (!rows.length) rows = [h('tr', {}, [h('td', { class: 'empty', colspan: 11, text: 'This task has no steps.' })])];
  $('steps-body').replaceChildren.apply($('steps-body'), rows);
}

function stepRows(s) {
  var resolve = null;
  if (s.state === 'error' || s.state === 'pending') {
    resolve = h('button', { type: 'button', class: 'small', 'data-testid': 'resolve-step', 'data-step': s.name, text: 'Resolve', onclick: function () { openAction('resolve', s.name); } });
    guard(resolve, ACTIONS.resolve.hint);
  }
  var r = s.readiness;
  var readiness = h('td', { text: r ? r.reason.replace(/_/g, ' ') : '' });
  if (r) readiness.title = 'dependencies done ' + r.parentsDone + '/' + r.parentsTotal + (r.availableAt ? '; available at ' + fmtTime(r.availableAt) : '');
  var row = h('tr', { 'data-testid': 'step-row', 'data-step': s.name, 'data-state': s.state }, [
    h('td', { class: 'mono' }, [h('strong', { text: s.name })]),
    h('td', {}, [badge(s.state)]),
    h('td', { class: 'nowrap', 'data-testid': 'step-attempts', text: s.attempts + '/' + s.retryLimit + (s.retryable === false ? ' (no retry)' : '') }),
    timeCell(s.nextRetryAt),
    timeCell(s.startedAt),
    timeCell(s.completedAt),
    h('td', { class: 'nowrap', text: fmtDuration(s.durationMs) }),
    readiness,
    h('td', { class: 'mono', text: (s.dependsOn || []).join(', ') || '\u2014' }),
    h('td', { class: 'results' }, [s.results === undefined ? '' : details('results:' + s.name, 'JSON', JSON.stringify(s.results, null, 2))]),
    h('td', {}, [resolve]),
  ]);
  if (!s.lastError) return [row];
  var e = s.lastError;
  var box = h('div', { class: 'error-box', 'data-testid': 'step-error', 'data-step': s.name }, [
    h('span', { class: 'muted', text: s.state === 'error' ? 'Error: ' : 'Last error: ' }),
    h('span', { class: 'err-name', text: e.name || 'Error' }), ' ',
    h('span', { class: 'err-message', 'data-testid': 'step-error-message', text: e.message }),
    e.code ? h('span', { class: 'code mono', title: 'error code', text: e.code }) : null,
    e.stack ? details('stack:' + s.name, 'Stack trace', e.stack) : null,
  ]);
  return [row, h('tr', { class: 'error-row', 'data-step': s.name }, [h('td', { colspan: 11 }, [box])])];
}

/* ---------- graph: layers by longest path from the roots, left to right ---------- */

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
  var L = layout(nodes, edges);
  var root = svg('svg', { width: L.width, height: L.height, viewBox: '0 0 ' + L.width + ' ' + L.height, role: 'img', 'aria-label': 'Step graph', 'data-testid': 'graph-svg' }, [
    svg('defs', {}, [svg('marker', { id: 'tasker-arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, [
      svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#9ca3af' }),
    ])]),
  ]);
  edges.forEach(function (e) {
    var a = L.pos.get(e.from);
    var b = L.pos.get(e.to);
    if (!a || !b) return;
    var x1 = a.x + G.W, y1 = a.y + G.H / 2, x2 = b.x, y2 = b.y + G.H / 2, mx = (x1 + x2) / 2;
    root.append(svg('path', { class: 'edge', 'data-from': e.from, 'data-to': e.to, 'marker-end': 'url(#tasker-arrow)',
      d: 'M' + x1 + ',' + y1 + ' C' + mx + ',' + y1 + ' ' + mx + ',' + y2 + ' ' + x2 + ',' + y2 }));
  });
  nodes.forEach(function (n) {
    var p = L.pos.get(n.id);
    var state = n.state || 'pending';
    var name = n.id.length > 24 ? n.id.slice(0, 23) + '\u2026' : n.id;
    var tries = n.attempts === undefined ? '' : ' \u00b7 ' + n.attempts + '/' + n.retryLimit;
    var node = svg('g', { class: 'node s-' + state, 'data-testid': 'graph-node', 'data-step': n.id, 'data-state': state, transform: 'translate(' + p.x + ',' + p.y + ')' }, [
      svg('title', { text: n.id + ': ' + state + (n.attempts === undefined ? '' : ' (attempts ' + n.attempts + ' of ' + n.retryLimit + ')') }),
      svg('rect', { width: G.W, height: G.H, rx: 8 }),
      svg('text', { x: 10, y: 20, text: name }),
      svg('text', { x: 10, y: 38, class: 'sub', text: state + tries }),
    ]);
    node.addEventListener('click', function () { focusStep(n.id); });
    root.append(node);
  });
  box.replaceChildren(root);
}

function focusStep(name) {
  var row = Array.prototype.find.call($('steps-body').querySelectorAll('tr[data-testid="step-row"]'), function (r) { return r.getAttribute('data-step') === name; });
  if (!row) return;
  row.scrollIntoView({ block: 'center', behavior: 'smooth' });
  row.classList.remove('flash');
  void row.offsetWidth;
  row.classList.add('flash');
}

/* ---------- audit trail ---------- */

function renderAudit(entries) {
  var rows = (entries || []).map(function (a) {
    return h('tr', { 'data-testid': 'audit-row', 'data-step': a.stepName || '', 'data-to': a.to }, [
      timeCell(a.at),
      h('td', { class: 'mono' }, [a.stepName ? a.stepName : h('em', { text: 'task' })]),
      h('td', { class: 'nowrap' }, [a.from ? badge(a.from) : h('span', { class: 'muted', text: '(new)' }), ' \u2192 ', badge(a.to)]),
      h('td', { text: a.attempt === undefined || a.attempt === null ? '' : a.attempt }),
      h('td', { 'data-testid': 'audit-actor', text: a.actor || '' }),
      h('td', { text: a.reason || '' }),
      h('td', { text: a.error ? a.error.name + ': ' + a.error.message : '' }),
    ]);
  });
  if (!rows.length) rows = [h('tr', {}, [h('td', { class: 'empty', colspan: 7, text: 'No transitions recorded.' })])];
  $('audit-body').replaceChildren.apply($('audit-body'), rows);
}

/* ---------- operator actions ---------- */

function openAction(kind, step) {
  if (!S.task) return;
  S.action = { kind: kind, step: step, taskId: S.task.id };
  $('action-title').textContent = kind === 'resolve' ? 'Resolve step "' + step + '" of task ' + S.task.id : (kind === 'retry' ? 'Retry' : 'Cancel') + ' task ' + S.task.id;
  $('action-help').textContent = ACTIONS[kind].hint;
  $('action-results-field').hidden = kind !== 'resolve';
  $('action-results').value = '';
  $('action-reason').value = '';
  message($('action-error'), '');
  $('action-confirm').disabled = false;
  $('action-confirm').textContent = kind === 'retry' ? 'Retry task' : kind === 'cancel' ? 'Cancel task' : 'Resolve step';
  $('action-dialog').showModal();
  (kind === 'resolve' ? $('action-results') : $('action-reason')).focus();
}

async function confirmAction(ev) {
  ev.preventDefault();
  var a = S.action;
  if (!a) return;
  var body = {};
  var reason = $('action-reason').value.trim();
  if (reason) body.reason = reason;
  if (a.kind === 'resolve') {
    var raw = $('action-results').value.trim();
    if (raw) {
      try { body.results = JSON.parse(raw); } catch (e) {
        message($('action-error'), 'Results are not valid JSON (nothing was sent): ' + e.message, 'error');
        $('action-results').focus();
        return;
      }
    }
  }
  var path = '/tasks/' + encodeURIComponent(a.taskId) + (a.kind === 'resolve' ? '/steps/' + encodeURIComponent(a.step) + '/resolve' : '/' + a.kind);
  $('action-confirm').disabled = true;
  try { await api('POST', path, body); } catch (e) {
    if (e.status !== 401) message($('action-error'), describe(e), 'error');
    return;
  } finally { $('action-confirm').disabled = false; }
  S.action = null;
  $('action-dialog').close();
  message($('action-message'), ACTIONS[a.kind].done + (a.step ? ' (' + a.step + ')' : '') + (reason ? ' Reason: ' + reason : ''), 'ok');
  loadTask();
}
`;
