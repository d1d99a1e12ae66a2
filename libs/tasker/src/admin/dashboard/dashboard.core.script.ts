/**
 * Dashboard script, part 1: helpers, API calls, sign-in, the task list, routing and auto-refresh.
 * Plain browser JavaScript in a string (no backticks or template placeholders inside); it shares
 * one function scope with part 2 (dashboard.task.script.ts). Data is only ever inserted as text.
 */
export const DASHBOARD_CORE_SCRIPT = String.raw`
var KEY = 'tasker.apiKey';
var BASE = location.pathname.replace(/\/dashboard\/?$/, '') || '/tasker';
var PAGE_SIZE = 25;
var REFRESH_MS = 3000;
var STATES = ['pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually'];
var STEP_STATES = STATES.concat(['skipped', 'waiting']);
var S = { me: null, items: [], cursor: null, listSeq: 0, taskId: null, task: null, taskSeq: 0, open: new Set(), action: null, busy: 0 };

function $(id) { return document.getElementById(id); }

/** Creates an element; attrs.text sets textContent, on* attrs add listeners; kids are nodes or strings (as text). */
function h(tag, attrs, kids) {
  var e = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) {
    var v = attrs[k];
    if (v === undefined || v === null || v === false) return;
    if (k === 'text') e.textContent = String(v);
    else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  });
  (kids || []).forEach(function (c) { if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c)); });
  return e;
}

function message(node, text, kind) {
  node.textContent = text || '';
  node.hidden = !text;
  if (kind) node.className = 'message ' + kind;
}

function pad(n) { return (n < 10 ? '0' : '') + n; }
function fmtTime(v) {
  if (!v) return '';
  var d = new Date(v);
  if (isNaN(d.getTime())) return String(v);
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}
function timeCell(v) {
  var td = h('td', { class: 'nowrap', text: fmtTime(v) || '\u2014' });
  if (v) td.title = new Date(v).toISOString();
  return td;
}
function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return ms + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  return Math.floor(ms / 60000) + 'm ' + Math.round((ms % 60000) / 1000) + 's';
}
function badge(state) { return h('span', { class: 'badge s-' + state, 'data-state': state, text: state }); }
function taskType(t) { return t.namespace + '/' + t.name + '@' + t.version; }

class ApiError extends Error {
  constructor(status, body, fallback) {
    super((body && body.message) || fallback);
    this.status = status;
    this.body = body;
  }
}
/** "409 Conflict: Task 2 is complete; ..." from the API's { statusCode, error, message }. */
function describe(e) {
  if (e instanceof ApiError && e.status) return e.status + ' ' + ((e.body && e.body.error) || '') + ': ' + e.message;
  return (e && e.message) || String(e);
}

/*
 * The last answer of each GET, by path, with its ETag: the API sends Cache-Control: no-store, so the
 * browser keeps nothing; asked with If-None-Match, an unchanged answer is a 304 without a body, and
 * api() returns the same object as before (auto-refresh then skips redrawing it).
 */
var ETAGS = new Map();
var ETAG_PATHS = 50;

async function api(method, path, body) {
  var key = sessionStorage.getItem(KEY);
  if (!key) { signOut('Please sign in.'); throw new ApiError(401, null, 'Not signed in.'); }
  var init = { method: method, headers: { Authorization: 'Bearer ' + key, Accept: 'application/json' }, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
  var known = method === 'GET' ? ETAGS.get(path) : undefined;
  if (known && known.key === key) init.headers['If-None-Match'] = known.etag;
  var res, text;
  S.busy++;
  try {
    res = await fetch(BASE + path, init);
    text = await res.text();
  } catch (e) {
    throw new ApiError(0, null, 'The Tasker API could not be reached: ' + e.message);
  } finally { S.busy--; }
  if (res.status === 304 && known) return known.data;
  var data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  var etag = res.headers.get('ETag');
  if (method === 'GET' && res.ok && etag) {
    ETAGS.delete(path);
    ETAGS.set(path, { etag: etag, data: data, key: key });
    if (ETAGS.size > ETAG_PATHS) ETAGS.delete(ETAGS.keys().next().value);
  }
  if (res.status === 401) {
    signOut('The API key was not accepted: ' + ((data && data.message) || 'unauthorized.') + ' Enter a valid API key.');
    throw new ApiError(401, data, 'Unauthorized.');
  }
  if (!res.ok) throw new ApiError(res.status, data, 'HTTP ' + res.status + ' ' + res.statusText);
  return data;
}

/* ---------- sign-in ---------- */

function showLogin(text) {
  ['list-view', 'task-view', 'schedules-view', 'nav', 'whoami', 'signout', 'refresh', 'auto-refresh-label'].forEach(function (id) { $(id).hidden = true; });
  $('login').hidden = false;
  message($('login-message'), text, 'error');
  $('api-key').value = '';
  $('api-key').focus();
}

function signOut(text) {
  sessionStorage.removeItem(KEY);
  ETAGS.clear();
  S.me = null;
  S.taskId = null;
  if ($('action-dialog').open) $('action-dialog').close();
  if ($('schedule-dialog').open) $('schedule-dialog').close();
  showLogin(text);
}

async function signIn(key) {
  sessionStorage.setItem(KEY, key);
  var me;
  try { me = await api('GET', '/me'); } catch (e) { if (e.status !== 401) showLogin('Could not sign in: ' + describe(e)); return; }
  S.me = me;
  $('login').hidden = true;
  var who = $('whoami');
  who.replaceChildren('Signed in as ', h('strong', { text: me.name }), ' ', h('span', { class: 'role', 'data-testid': 'role', text: me.role }));
  ['nav', 'whoami', 'signout', 'refresh', 'auto-refresh-label'].forEach(function (id) { $(id).hidden = false; });
  route();
}

/* ---------- task list ---------- */

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

/** mode: 'reset' (first page), 'more' (next page), 'refresh' (reload what is shown). */
async function loadList(mode) {
  var q = listQuery();
  if (mode === 'more' && S.cursor) q.set('cursor', S.cursor);
  q.set('limit', String(mode === 'refresh' ? Math.min(500, Math.max(PAGE_SIZE, S.items.length)) : PAGE_SIZE));
  var seq = ++S.listSeq;
  var page;
  try { page = await api('GET', '/tasks?' + q.toString()); } catch (e) {
    if (seq === S.listSeq && e.status !== 401) message($('list-message'), describe(e), 'error');
    return;
  }
  if (seq !== S.listSeq) return;
  message($('list-message'), '');
  if (mode === 'refresh' && page === S.listPage) return; // 304: nothing changed, nothing to redraw
  S.listPage = mode === 'more' ? null : page;
  S.items = mode === 'more' ? S.items.concat(page.items) : page.items;
  S.cursor = page.nextCursor;
  renderList();
}

function renderList() {
  var rows = S.items.map(function (t) {
    var link = '#task/' + encodeURIComponent(t.id);
    return h('tr', { class: 'clickable', 'data-testid': 'task-row', 'data-task-id': t.id, 'data-state': t.state, onclick: function () { location.hash = link; } }, [
      h('td', { class: 'mono' }, [h('a', { href: link, text: t.id })]),
      h('td', { class: 'mono', text: taskType(t) }),
      h('td', {}, [badge(t.state)]),
      timeCell(t.createdAt),
      timeCell(t.completedAt),
      h('td', { text: t.initiator || '' }),
    ]);
  });
  if (!rows.length) rows = [h('tr', {}, [h('td', { class: 'empty', colspan: 6, text: 'No tasks match these filters.' })])];
  $('tasks-body').replaceChildren.apply($('tasks-body'), rows);
  $('list-count').textContent = S.items.length + (S.items.length === 1 ? ' task' : ' tasks') + (S.cursor ? ' shown, more available' : '');
  $('load-more').hidden = !S.cursor;
}

/* ---------- routing and refresh ---------- */

function route() {
  if (!S.me) return;
  var schedules = location.hash === '#schedules';
  $('schedules-view').hidden = !schedules;
  $('nav-schedules').classList.toggle('current', schedules);
  $('nav-tasks').classList.toggle('current', !schedules && !/^#task\//.test(location.hash));
  if (schedules) {
    S.taskId = null;
    $('task-view').hidden = true;
    $('list-view').hidden = true;
    loadSchedules();
    return;
  }
  var m = /^#task\/(.+)$/.exec(location.hash);
  if (m) {
    openTask(decodeURIComponent(m[1]));
    return;
  }
  S.taskId = null;
  $('task-view').hidden = true;
  $('list-view').hidden = false;
  loadList('reset');
}

function refresh() {
  if (!S.me) return;
  if (S.taskId) loadTask();
  else if (location.hash === '#schedules') loadSchedules();
  else loadList('refresh');
}

function tick() {
  if (!S.me || S.busy || document.visibilityState !== 'visible' || !$('auto-refresh').checked || $('action-dialog').open || $('schedule-dialog').open) return;
  refresh();
}

function boot() {
  STATES.forEach(function (s) { $('filter-state').append(h('option', { value: s, text: s })); });
  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var key = $('api-key').value.trim();
    if (key) signIn(key);
  });
  $('signout').addEventListener('click', function (ev) { ev.preventDefault(); signOut('Signed out.'); });
  $('refresh').addEventListener('click', refresh);
  $('filters').addEventListener('submit', function (ev) { ev.preventDefault(); loadList('reset'); });
  $('filter-state').addEventListener('change', function () { loadList('reset'); });
  $('filter-failed').addEventListener('click', function () { $('filter-state').value = 'error'; loadList('reset'); });
  $('filter-clear').addEventListener('click', function () {
    $('filter-state').value = '';
    $('filter-namespace').value = '';
    $('filter-name').value = '';
    loadList('reset');
  });
  $('load-more').addEventListener('click', function () { loadList('more'); });
  initTaskView();
  initSchedulesView();
  window.addEventListener('hashchange', route);
  document.addEventListener('visibilitychange', tick);
  setInterval(tick, REFRESH_MS);
  var key = sessionStorage.getItem(KEY);
  if (key) signIn(key);
  else showLogin('');
}
`;
