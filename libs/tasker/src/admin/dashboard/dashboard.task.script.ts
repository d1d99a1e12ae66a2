/**
 * Dashboard script, part 4: one task (fields, context, steps, errors, results); its graph, audit
 * trail and actions are parts 5 and 6. Shares its function scope with dashboard.core.script.ts.
 * Retry and Cancel are offered only in the states that allow them; after a retry, a step's old error
 * reads as history, not as the failure of a step that now runs or has completed.
 * Dynamic workflows: a held step shows its readiness reason (a child task as a link), a map step is
 * one row with its instance counts that opens to list its instances (and expands them in the graph),
 * and a step waiting for a signal has a Send signal action.
 * Flow control: the task's priority (when not 0) among its fields; a step held by a concurrency or
 * rate limit shows that reason like the other holds.
 */
export const DASHBOARD_TASK_SCRIPT = String.raw`
/** An opened map step shows at most this many instance rows (the state filter narrows them first). */
var MAX_INSTANCE_ROWS = 500;
var ACTIONS = {
  retry: { hint: 'Steps in error go back to pending with a fresh attempt budget; completed steps never run again.', done: 'Retry requested.' },
  cancel: { hint: 'No further step starts; running steps are signalled to stop; pending steps become cancelled.', done: 'Task cancelled.' },
  resolve: { hint: 'The step becomes resolved_manually with the results below; its dependents receive them as its output.', done: 'Step resolved.' },
  signal: { hint: 'The step waiting for this signal completes with the payload below as its results; its dependents receive them. A task receives each signal once.', done: 'Signal sent.' },
};

function initTaskView() {
  $('retry-task').addEventListener('click', function () { openAction('retry'); });
  $('cancel-task').addEventListener('click', function () { openAction('cancel'); });
  $('action-form').addEventListener('submit', confirmAction);
  $('action-close').addEventListener('click', function () { $('action-dialog').close(); });
  STEP_STATES.forEach(function (st) { $('step-filter').append(h('option', { value: st, text: st })); });
  $('step-filter').addEventListener('change', function () { if (S.task) renderTask(S.task); });
  $('state-legend').replaceChildren.apply($('state-legend'), STEP_STATES.map(function (st) { return badge(st); }));
}

/** A readiness code (waiting_for_dependencies) reads as words; a sentence (waiting for signal "a_b") stays as it is. */
function isSentence(reason) { return !!reason && reason.indexOf(' ') >= 0; }
/** Held back by flow control: concurrency limit (crm/sync_account:acc-1: 1/1 running), rate limited (stripe: 3/3 per 1 s). */
function isFlowHold(reason) { return /^(concurrency limit|rate limited) \(/.test(reason || ''); }
function reasonText(reason) { return isSentence(reason) ? reason : String(reason || '').replace(/_/g, ' '); }

/** Map steps whose instance list is open: their instances are listed and drawn in the graph. */
function openMaps() {
  var out = [];
  S.open.forEach(function (k) { if (k.indexOf('instances:') === 0) out.push(k.slice(10)); });
  return out;
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
    $('task-body').hidden = false;
    S.taskGone = null;
    ['task-fields', 'task-context', 'task-graph', 'task-mermaid', 'steps-body', 'audit-body'].forEach(function (x) { $(x).replaceChildren(); });
    message($('task-message'), '');
    message($('action-message'), '');
    $('retry-task').hidden = true;
    $('cancel-task').hidden = true;
  }
  loadTask();
}

async function loadTask() {
  var id = S.taskId;
  if (!id) return;
  var seq = ++S.taskSeq;
  var p = '/tasks/' + encodeURIComponent(id);
  var r;
  var maps = openMaps();
  var graphPath = p + '/graph' + (maps.length ? '?expand=' + encodeURIComponent(maps.join(',')) : '');
  try { r = await Promise.all([api('GET', p), api('GET', graphPath), api('GET', p + '/audit')]); } catch (e) {
    if (seq !== S.taskSeq || id !== S.taskId || e.status === 401) return;
    message($('task-message'), describe(e), 'error');
    // No such task (a mistyped or purged link): the message alone, no empty panels, and no
    // auto-refresh asking again every few seconds (the Refresh button still does).
    if (e.status === 404) {
      S.taskGone = id;
      $('task-type').textContent = '';
      $('task-body').hidden = true;
    }
    return;
  }
  if (seq !== S.taskSeq || id !== S.taskId) return;
  S.taskGone = null;
  $('task-body').hidden = false;
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
    ['Priority', t.priority ? String(t.priority) : ''],
  ];
  var dl = [];
  fields.forEach(function (f) { if (f[1]) dl.push(h('dt', { text: f[0] }), h('dd', { text: f[1] })); });
  if (t.parentTaskId) {
    dl.push(h('dt', { text: 'Parent task' }), h('dd', {}, [
      h('a', { href: '#task/' + encodeURIComponent(t.parentTaskId), 'data-testid': 'parent-link', text: 'Task ' + t.parentTaskId }),
      t.parentStepName ? ' (step ' : '', t.parentStepName ? h('span', { class: 'mono', text: t.parentStepName }) : '', t.parentStepName ? ')' : '',
    ]));
  }
  $('task-fields').replaceChildren.apply($('task-fields'), dl);
  $('task-context').textContent = JSON.stringify(t.context || {}, null, 2);
  guard($('retry-task'), ACTIONS.retry.hint);
  guard($('cancel-task'), ACTIONS.cancel.hint);
  // What the engine allows: retry a task in error; cancel one not finished yet.
  $('retry-task').hidden = t.state !== 'error';
  $('cancel-task').hidden = ['pending', 'in_progress', 'error'].indexOf(t.state) < 0;
  $('retry-task').classList.add('primary');
  $('readonly-note').hidden = S.me.role === 'operator';
  var filter = $('step-filter').value;
  var instances = new Map();
  (t.steps || []).forEach(function (s) { if (s.mapOf !== undefined) (instances.get(s.mapOf) || instances.set(s.mapOf, []).get(s.mapOf)).push(s); });
  var rows = [];
  (t.steps || []).forEach(function (s) {
    if (s.mapOf !== undefined) return;
    var own = instances.get(s.name) || [];
    var matching = filter ? own.filter(function (i) { return i.state === filter; }) : own;
    if (filter && s.state !== filter && !matching.length) return;
    rows.push.apply(rows, stepRows(s, false));
    if (s.instances && S.open.has('instances:' + s.name)) rows.push.apply(rows, instanceRows(s, matching));
  });
  if (!rows.length) {
    var none = (t.steps || []).length ? 'No step is ' + filter + '.' : 'This task has no steps.';
    rows = [h('tr', {}, [h('td', { class: 'empty', colspan: 11, text: none })])];
  }
  $('steps-body').replaceChildren.apply($('steps-body'), rows);
  labelCells($('steps-table'));
}

/** The instances of an opened map step (those in the filtered state), in item order, at most MAX_INSTANCE_ROWS. */
function instanceRows(map, list) {
  var rows = [];
  list.slice(0, MAX_INSTANCE_ROWS).forEach(function (i) { rows.push.apply(rows, stepRows(i, true)); });
  var note = list.length > MAX_INSTANCE_ROWS ? 'The first ' + MAX_INSTANCE_ROWS + ' of ' + list.length + ' instances are listed; choose a state above to narrow them.'
    : !list.length ? (map.instances.total ? 'No instance is in this state.' : 'The list was empty: no instances.') : null;
  if (note) rows.push(h('tr', { class: 'instance-note', 'data-map-of': map.name }, [h('td', { colspan: 11, text: note })]));
  return rows;
}

/** "7 done, 2 running, 1 failed" (zero counts left out). */
function countsText(c) {
  var pending = Math.max(0, c.total - c.done - c.running - c.failed);
  var parts = [];
  [['done', c.done], ['running', c.running], ['failed', c.failed], ['pending', pending]].forEach(function (p) { if (p[1] > 0) parts.push(p[1] + ' ' + p[0]); });
  return parts.join(', ') || 'no instances';
}

/** Why the step is (not) ready: the reason as a sentence, a child task as a link, a map step's counts. */
function readinessCell(s) {
  var r = s.readiness;
  var td = h('td', { 'data-testid': 'step-readiness' });
  if (!r) return td;
  var w = s.waitingFor;
  if (s.instances) {
    td.append(h('span', { class: 'counts', 'data-testid': 'instance-counts', text: countsText(s.instances) }));
    if (isSentence(r.reason)) td.append(h('span', { class: 'sub', text: r.reason }));
  } else if (w && w.kind === 'child') {
    td.append('waiting for child task ', h('a', { href: '#task/' + encodeURIComponent(w.taskId), 'data-testid': 'child-link', text: w.taskId }));
  } else {
    td.textContent = reasonText(r.reason);
  }
  if (s.state === 'waiting' || s.state === 'skipped' || isFlowHold(r.reason)) td.classList.add('held');
  var title = 'dependencies done ' + r.parentsDone + '/' + r.parentsTotal + (r.availableAt ? '; available at ' + fmtTime(r.availableAt) : '');
  if (w && w.kind === 'sleep') title = 'sleeping until ' + fmtTime(w.until) + ' (local time)';
  if (w && w.kind === 'signal' && w.until) title = 'the wait times out at ' + fmtTime(w.until) + ' (local time)';
  td.title = title;
  return td;
}

function stepRows(s, instance) {
  var actions = [];
  var w = s.waitingFor;
  if (s.state === 'waiting' && w && w.kind === 'signal') {
    var send = h('button', { type: 'button', class: 'small primary', 'data-testid': 'signal-step', 'data-step': s.name, 'data-signal': w.name, text: 'Send signal',
      onclick: function () { openAction('signal', s.name, w.name); } });
    guard(send, ACTIONS.signal.hint);
    actions.push(send);
  }
  // A map step is not resolved itself (its failed instances are); a waiting step may be.
  if (!s.instances && (s.state === 'error' || s.state === 'pending' || s.state === 'waiting')) {
    var resolve = h('button', { type: 'button', class: 'small', 'data-testid': 'resolve-step', 'data-step': s.name, text: 'Resolve', onclick: function () { openAction('resolve', s.name); } });
    guard(resolve, ACTIONS.resolve.hint);
    actions.push(resolve);
  }
  var nameCell = h('td', { class: 'mono name' }, [h('strong', { text: s.name })]);
  if (s.instances) {
    var key = 'instances:' + s.name;
    var open = S.open.has(key);
    nameCell.append(' ', h('span', { class: 'muted', text: '\u00d7' + s.instances.total }), h('br'), h('button', {
      type: 'button', class: 'small', 'data-testid': 'instances-toggle', 'data-step': s.name, 'aria-expanded': open ? 'true' : 'false',
      text: (open ? 'Hide instances' : 'Show instances') + ' (' + s.instances.total + ')',
      onclick: function () {
        if (S.open.has(key)) S.open.delete(key); else S.open.add(key);
        renderTask(S.task);
        loadTask();
      },
    }));
  }
  var attrs = instance
    ? { class: 'instance-row', 'data-testid': 'instance-row', 'data-step': s.name, 'data-map-of': s.mapOf, 'data-state': s.state }
    : { 'data-testid': 'step-row', 'data-step': s.name, 'data-state': s.state };
  var row = h('tr', attrs, [
    nameCell,
    h('td', {}, [badge(s.state)]),
    h('td', { class: 'nowrap', 'data-testid': 'step-attempts', text: s.attempts + '/' + s.retryLimit + (s.retryable === false ? ' (no retry)' : '') }),
    timeCell(s.nextRetryAt),
    timeCell(s.startedAt),
    timeCell(s.completedAt),
    h('td', { class: 'nowrap', text: fmtDuration(s.durationMs) }),
    readinessCell(s),
    h('td', { class: 'mono deps', 'data-testid': 'step-depends-on', text: (s.dependsOn || []).join(', ') || (instance ? 'item ' + s.mapIndex : '\u2014') }),
    h('td', { class: 'results' }, [s.results === undefined ? '' : details('results:' + s.name, 'JSON', JSON.stringify(s.results, null, 2))]),
    h('td', {}, [h('div', { class: 'row-actions' }, actions)]),
  ]);
  if (!s.lastError) return [row];
  var e = s.lastError;
  // A step no longer in error (retried, running again, completed, resolved) keeps its last error as history.
  var past = s.state !== 'error';
  var box = h('div', { class: 'error-box' + (past ? ' history' : ''), 'data-testid': 'step-error', 'data-step': s.name, 'data-history': past ? 'true' : 'false' }, [
    past ? h('span', { class: 'muted', text: 'Earlier error, before ' + (s.state === 'complete' ? 'it completed' : 'it became ' + s.state.replace(/_/g, ' ')) + ': ' }) : null,
    h('span', { class: 'err-name', 'data-testid': 'step-error-name', text: e.name || 'Error' }), ': ',
    h('span', { class: 'err-message', 'data-testid': 'step-error-message', text: e.message }),
    e.code ? h('span', { class: 'code mono', title: 'error code', text: e.code }) : null,
    e.stack ? details('stack:' + s.name, 'Stack trace', e.stack) : null,
  ]);
  return [row, h('tr', { class: (past ? 'error-row history' : 'error-row') + (instance ? ' instance-row' : ''), 'data-step': s.name }, [h('td', { colspan: 11 }, [box])])];
}
`;
