/**
 * Dashboard script, part 2: the task list (#tasks): counts by state above it, filters kept in the
 * URL (#tasks?state=error&namespace=billing) so a list can be shared, and for a failed task its
 * failing step and error. Shares its function scope with the other parts (dashboard.core.script.ts).
 */
export const DASHBOARD_LIST_SCRIPT = String.raw`
/** Failing step and error of a failed task, by "id@updatedAt": fetched once per change of the task. */
var FAILING = new Map();

function initListView() {
  STATES.forEach(function (s) { $('filter-state').append(h('option', { value: s, text: s })); });
  $('filters').addEventListener('submit', function (ev) { ev.preventDefault(); applyFilters(); });
  $('filter-state').addEventListener('change', applyFilters);
  $('filter-failed').addEventListener('click', function () { $('filter-state').value = 'error'; applyFilters(); });
  $('filter-clear').addEventListener('click', function () {
    $('filter-state').value = '';
    $('filter-namespace').value = '';
    $('filter-name').value = '';
    applyFilters();
  });
  $('load-more').addEventListener('click', function () { loadList('more'); });
}

function listQuery() {
  var q = new URLSearchParams();
  var state = $('filter-state').value;
  var ns = $('filter-namespace').value.trim();
  var name = $('filter-name').value.trim();
  if (state) q.set('state', state);
  if (ns) q.set('namespace', ns);
  if (name) q.set('name', name);
  return q;
}

function listHash(q) { var s = q.toString(); return '#tasks' + (s ? '?' + s : ''); }

/** The filters go into the URL (a new history entry, so Back returns to the previous list); the hash change reloads the list. */
function applyFilters() {
  var hash = listHash(listQuery());
  if (location.hash === hash) loadList('reset');
  else location.hash = hash;
}

function filtersFromHash() {
  var i = location.hash.indexOf('?');
  var q = new URLSearchParams(i < 0 ? '' : location.hash.slice(i + 1));
  $('filter-state').value = STATES.indexOf(q.get('state')) >= 0 ? q.get('state') : '';
  $('filter-namespace').value = q.get('namespace') || '';
  $('filter-name').value = q.get('name') || '';
  $('back').setAttribute('href', location.hash || '#tasks');
}

/** mode: 'reset' (first page), 'more' (next page), 'refresh' (reload what is shown). */
async function loadList(mode) {
  var q = listQuery();
  if (mode === 'more' && S.cursor) q.set('cursor', S.cursor);
  q.set('limit', String(mode === 'refresh' ? Math.min(500, Math.max(PAGE_SIZE, S.items.length)) : PAGE_SIZE));
  var seq = ++S.listSeq;
  var r;
  try { r = await Promise.all([api('GET', '/tasks?' + q.toString()), api('GET', '/stats')]); } catch (e) {
    if (seq === S.listSeq && e.status !== 401) message($('list-message'), describe(e), 'error');
    return;
  }
  if (seq !== S.listSeq) return;
  message($('list-message'), '');
  var page = r[0];
  // A 304 gives back the very objects of the last answer: nothing changed, nothing to redraw.
  if (mode === 'refresh' && page === S.listPage && r[1] === S.statsPage) return;
  S.listPage = mode === 'more' ? null : page;
  S.statsPage = r[1];
  S.items = mode === 'more' ? S.items.concat(page.items) : page.items;
  S.cursor = page.nextCursor;
  renderCounts(r[1].tasks);
  renderList();
  loadFailing(seq);
}

/** One chip per state with its count (every task type); a chip filters the list by its state. */
function renderCounts(counts) {
  var q = listQuery();
  var chips = STATES.map(function (st) {
    q.set('state', st);
    var n = counts[st] || 0;
    return h('a', { href: listHash(q), class: 'count-chip s-' + st + (n ? '' : ' zero'), 'data-testid': 'state-count', 'data-state': st },
      [h('span', { class: 'n', text: n }), ' ' + st.replace(/_/g, ' ')]);
  });
  var total = STATES.reduce(function (a, st) { return a + (counts[st] || 0); }, 0);
  $('state-counts').replaceChildren.apply($('state-counts'), [h('span', { class: 'muted', text: total + ' tasks of every type:' })].concat(chips));
}

function failingKey(t) { return t.id + '@' + t.updatedAt; }

/** Fetches the failing step of each failed task shown that is not known yet, then redraws the list. */
async function loadFailing(seq) {
  var missing = S.items.filter(function (t) { return t.state === 'error' && !FAILING.has(failingKey(t)); }).slice(0, PAGE_SIZE);
  if (!missing.length) return;
  var details = await Promise.all(missing.map(function (t) { return api('GET', '/tasks/' + encodeURIComponent(t.id)).catch(function () { return null; }); }));
  details.forEach(function (d, i) {
    if (!d) return;
    var failed = (d.steps || []).filter(function (s) { return s.state === 'error' && s.lastError; });
    FAILING.set(failingKey(missing[i]), failed.length ? { step: failed[0].name, error: failed[0].lastError, more: failed.length - 1 } : null);
  });
  if (seq === S.listSeq) renderList();
}

function failingCell(t) {
  var td = h('td', { class: 'failing', 'data-testid': 'task-failing' });
  var f = t.state === 'error' ? FAILING.get(failingKey(t)) : null;
  if (!f) return td;
  td.append(h('span', { class: 'mono', 'data-testid': 'failing-step', text: f.step }), f.more ? h('span', { class: 'muted', text: ' +' + f.more }) : '',
    h('span', { class: 'sub', 'data-testid': 'failing-error', text: errorText(f.error) }));
  return td;
}

/** "CardDeclined: Card declined [CARD_DECLINED]": the error's name once, then its message. */
function errorText(e) {
  if (!e) return '';
  return (e.name && e.name !== 'Error' ? e.name + ': ' : '') + e.message + (e.code ? ' [' + e.code + ']' : '');
}

function renderList() {
  var rows = S.items.map(function (t) {
    var link = '#task/' + encodeURIComponent(t.id);
    return h('tr', { class: 'clickable', 'data-testid': 'task-row', 'data-task-id': t.id, 'data-state': t.state, onclick: function () { location.hash = link; } }, [
      h('td', { class: 'mono' }, [h('a', { href: link, text: t.id })]),
      h('td', { class: 'mono', text: taskType(t) }),
      h('td', {}, [badge(t.state)]),
      failingCell(t),
      timeCell(t.createdAt),
      timeCell(t.completedAt),
      h('td', { text: t.initiator || '' }),
    ]);
  });
  if (!rows.length) rows = [h('tr', {}, [h('td', { class: 'empty', colspan: 7, text: 'No tasks match these filters.' })])];
  $('tasks-body').replaceChildren.apply($('tasks-body'), rows);
  labelCells($('tasks-table'));
  $('list-count').textContent = S.items.length + (S.items.length === 1 ? ' task' : ' tasks') + (S.cursor ? ' shown, more available' : '');
  $('load-more').hidden = !S.cursor;
}
`;
