/**
 * Dashboard script, part 3: the failures inbox (#failures, the landing view): tasks in error grouped
 * by task type, step and error, with counts, first and last seen, sample tasks to open, and "Retry
 * all" / "Cancel all" with a reason for operators. Shares its function scope with the other parts.
 */
export const DASHBOARD_FAILURES_SCRIPT = String.raw`
var BULK_HINTS = {
  retry: 'Every task of this group goes back to pending: its failed steps get a fresh attempt budget, its completed steps never run again. Fix the cause first.',
  cancel: 'Every task of this group is cancelled: no further step starts. Cancelled tasks cannot be retried.',
};
var F = { groups: [], seq: 0, action: null, done: null };
var FINISHED = ['complete', 'cancelled', 'resolved_manually'];

function initFailuresView() {
  $('bulk-form').addEventListener('submit', confirmBulk);
  $('bulk-close').addEventListener('click', function () { $('bulk-dialog').close(); });
}

async function loadFailures() {
  var seq = ++F.seq;
  var groups;
  try { groups = await api('GET', '/failures'); } catch (e) {
    if (seq === F.seq && e.status !== 401) message($('failures-message'), describe(e), 'error');
    return;
  }
  if (seq !== F.seq) return;
  message($('failures-message'), '');
  F.groups = groups;
  renderFailures();
  if (F.done) followDone(seq);
}

/** After a bulk action: the states its tasks are in now (those the group listed), until all are finished. */
async function followDone(seq) {
  var d = F.done;
  var open = d.ids.filter(function (id) { return FINISHED.indexOf(d.states[id]) < 0; });
  if (open.length) {
    var found = await Promise.all(open.map(function (id) { return api('GET', '/tasks/' + encodeURIComponent(id)).catch(function () { return null; }); }));
    found.forEach(function (t) { if (t) d.states[t.id] = t.state; });
  }
  if (seq === F.seq && d === F.done) renderDone();
}

function renderDone() {
  var d = F.done;
  var g = d.group;
  var by = {};
  d.ids.forEach(function (id) { var st = d.states[id]; if (st) by[st] = (by[st] || 0) + 1; });
  var now = Object.keys(by).map(function (st) { return by[st] + ' ' + st.replace(/_/g, ' '); }).join(', ');
  var links = [];
  d.ids.forEach(function (id) {
    links.push(h('a', { href: '#task/' + encodeURIComponent(id), class: 'mono', 'data-testid': 'bulk-task', 'data-state': d.states[id] || '', text: id }), ' ');
  });
  var watch = listHash(new URLSearchParams({ namespace: g.namespace, name: g.name }));
  // A retried task back in error failed again: the banner stops looking like a success and says so.
  var again = d.kind === 'retry' ? by.error || 0 : 0;
  $('bulk-result').className = 'message ' + (again ? 'error' : 'ok');
  $('bulk-result').replaceChildren(
    h('div', { text: d.text }),
    // '' rather than null: replaceChildren, unlike h(), would write a null out as the text "null".
    again ? h('div', { 'data-testid': 'bulk-failed-again' }, [h('strong', { text: again + ' failed again' }), ': fix the cause, then retry them (see the group below).']) : '',
    h('div', { 'data-testid': 'bulk-progress' }, [d.ids.length < d.count ? 'Of the ' + d.ids.length + ' listed, now: ' : 'Now: ', h('strong', { text: now || '\u2026' })]),
    h('div', {}, ['Open one to see it and its audit trail: '].concat(links, [h('a', { href: watch, 'data-testid': 'bulk-watch', text: 'all tasks of ' + g.namespace + '/' + g.name + ' \u2192' })])));
  $('bulk-result').hidden = false;
}

function taskLinks(ids, testid) {
  var out = [];
  ids.forEach(function (id, i) {
    if (i) out.push(' ');
    out.push(h('a', { href: '#task/' + encodeURIComponent(id), class: 'mono', 'data-testid': testid, text: id }));
  });
  return out;
}

function renderFailures() {
  var rows = F.groups.map(function (g) {
    var buttons = ['retry', 'cancel'].map(function (kind) {
      var b = h('button', { type: 'button', class: 'small' + (kind === 'retry' ? ' primary' : ' danger'), 'data-testid': kind + '-all',
        text: kind === 'retry' ? 'Retry all' : 'Cancel all', onclick: function () { openBulk(kind, g); } });
      guard(b, BULK_HINTS[kind]);
      return b;
    });
    var type = g.namespace + '/' + g.name + '@' + g.version;
    return h('tr', { 'data-testid': 'failure-group', 'data-namespace': g.namespace, 'data-name': g.name, 'data-step': g.stepName, 'data-code': g.code || '', 'data-count': g.count }, [
      h('td', { class: 'mono' }, [h('a', { href: listHash(new URLSearchParams({ state: 'error', namespace: g.namespace, name: g.name })), text: type })]),
      h('td', { class: 'mono', text: g.stepName }),
      h('td', { 'data-testid': 'failure-error' }, [
        h('span', { text: g.message }), g.code ? h('span', { class: 'code mono', title: 'error code', text: g.code }) : null,
      ]),
      h('td', { class: 'count', 'data-testid': 'failure-count', text: g.count }),
      timeCell(g.firstAt),
      timeCell(g.lastAt),
      h('td', { class: 'samples' }, taskLinks(g.taskIds.slice(0, 3), 'failure-sample')),
      h('td', {}, [h('div', { class: 'row-actions' }, buttons)]),
    ]);
  });
  if (!rows.length) rows = [h('tr', {}, [h('td', { class: 'empty', colspan: 8, 'data-testid': 'no-failures', text: 'No failed tasks.' })])];
  $('failures-body').replaceChildren.apply($('failures-body'), rows);
  labelCells($('failures-table'));
  $('failures-readonly').hidden = S.me.role === 'operator';
}

/**
 * The tasks of a group, as a bulk filter. The filter cannot name a message: a group without an error
 * code is sent as its task ids when they are all known (at most 20), else by its step, which may
 * take in other errors of that step too (the dialog says so).
 */
function groupFilter(g) {
  var f = { state: 'error', namespace: g.namespace, name: g.name, version: g.version, stepName: g.stepName };
  if (g.code) f.code = g.code;
  else if (g.count <= g.taskIds.length) return { exact: true, filter: { ids: g.taskIds.slice() } };
  return { exact: !!g.code, filter: f };
}

function openBulk(kind, g) {
  var f = groupFilter(g);
  F.action = { kind: kind, group: g, filter: f.filter };
  var what = g.count + (g.count === 1 ? ' task' : ' tasks') + ' of ' + g.namespace + '/' + g.name + '@' + g.version + ' failed at step "' + g.stepName + '"';
  $('bulk-title').textContent = (kind === 'retry' ? 'Retry ' : 'Cancel ') + what;
  $('bulk-help').textContent = BULK_HINTS[kind] + (f.exact ? '' : ' This group has no error code: every task in error at this step is included, whatever its message.');
  $('bulk-reason').value = '';
  message($('bulk-error'), '');
  $('bulk-confirm').disabled = false;
  $('bulk-confirm').className = kind === 'retry' ? 'primary' : 'danger';
  $('bulk-confirm').textContent = (kind === 'retry' ? 'Retry ' : 'Cancel ') + g.count + (g.count === 1 ? ' task' : ' tasks');
  $('bulk-dialog').showModal();
  $('bulk-reason').focus();
}

async function confirmBulk(ev) {
  ev.preventDefault();
  var a = F.action;
  if (!a) return;
  var body = { filter: a.filter };
  var reason = $('bulk-reason').value.trim();
  if (reason) body.reason = reason;
  $('bulk-confirm').disabled = true;
  var res;
  try { res = await api('POST', '/tasks/' + a.kind, body); } catch (e) {
    if (e.status !== 401) message($('bulk-error'), describe(e), 'error');
    return;
  } finally { $('bulk-confirm').disabled = false; }
  F.action = null;
  $('bulk-dialog').close();
  var g = a.group;
  F.done = {
    group: g, kind: a.kind, count: res.count, ids: g.taskIds.slice(), states: {},
    text: (a.kind === 'retry' ? 'Retried ' : 'Cancelled ') + res.count + (res.count === 1 ? ' task' : ' tasks') + ' of ' + g.namespace + '/' + g.name + ' (step ' + g.stepName + ')' + (reason ? '. Reason: ' + reason : '.'),
  };
  renderDone();
  loadFailures();
}
`;
