/**
 * Dashboard script, part 1: helpers, API calls, sign-in, routing and auto-refresh. Plain browser
 * JavaScript in a string (no backticks or template placeholders inside); every part (one per view,
 * joined in dashboard.page.ts) shares one function scope. Data is only ever inserted as text, and
 * handlers are attached from script (never as attributes), so a strict script CSP holds.
 */
export const DASHBOARD_CORE_SCRIPT = String.raw`
var KEY = 'tasker.apiKey';
var BASE = location.pathname.replace(/\/dashboard\/?$/, '') || '/tasker';
var PAGE_SIZE = 25;
var REFRESH_MS = 3000;
var STATES = ['pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually'];
var STEP_STATES = STATES.concat(['skipped', 'waiting']);
var VIEWS = ['list-view', 'task-view', 'schedules-view', 'failures-view', 'workers-view', 'types-view'];
var DIALOGS = ['action-dialog', 'schedule-dialog', 'bulk-dialog'];
var S = { me: null, items: [], cursor: null, listSeq: 0, taskId: null, task: null, taskSeq: 0, open: new Set(), action: null, busy: 0, session: 0, taskGone: null };

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
/** "+01:00": the browser's offset from UTC at that instant. */
function fmtZone(d) {
  var off = -d.getTimezoneOffset();
  return (off < 0 ? '-' : '+') + pad(Math.floor(Math.abs(off) / 60)) + ':' + pad(Math.abs(off) % 60);
}
/** With milliseconds and the zone offset: what the audit trail needs to order and compare events. */
function fmtPrecise(v) {
  if (!v) return '';
  var d = new Date(v);
  if (isNaN(d.getTime())) return String(v);
  var ms = String(d.getMilliseconds());
  return fmtTime(v) + '.' + '000'.slice(ms.length) + ms + ' ' + fmtZone(d);
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
/** Each cell carries its column's name, shown before it when a narrow screen stacks a table's cells. */
function labelCells(table) {
  var names = Array.prototype.map.call(table.querySelectorAll('thead th'), function (th) { return th.textContent; });
  Array.prototype.forEach.call(table.querySelectorAll('tbody tr'), function (tr) {
    Array.prototype.forEach.call(tr.children, function (td, i) { if (names[i] && td.colSpan === 1) td.setAttribute('data-label', names[i]); });
  });
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
  var session = S.session;
  S.busy++;
  try {
    res = await fetch(BASE + path, init);
    text = await res.text();
  } catch (e) {
    throw new ApiError(0, null, 'The Tasker API could not be reached: ' + e.message);
  } finally { S.busy--; }
  // An answer to a session that has ended (signed out, or in again) must not be drawn for the next
  // one, nor drawn at all with no one signed in: callers treat a 401 as handled by the sign-in.
  if (session !== S.session) throw new ApiError(401, null, 'Signed out while this request was under way.');
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
  VIEWS.concat(['nav', 'whoami', 'signout', 'refresh', 'auto-refresh-label']).forEach(function (id) { $(id).hidden = true; });
  $('login').hidden = false;
  message($('login-message'), text, 'error');
  $('api-key').value = '';
  $('api-key').focus();
}

/** What one user did or was told (banners, a bulk action followed) is not shown to the next one. */
function clearMessages() {
  Array.prototype.forEach.call(document.querySelectorAll('main .message'), function (m) { if (m.id !== 'login-message') message(m, ''); });
  F.done = null;
  $('bulk-result').replaceChildren();
  $('bulk-result').hidden = true;
}

function signOut(text) {
  sessionStorage.removeItem(KEY);
  clearMessages();
  ETAGS.clear();
  S.session++;
  S.me = null;
  S.taskId = null;
  closeDialogs();
  showLogin(text);
}

async function signIn(key) {
  S.session++;
  sessionStorage.setItem(KEY, key);
  var me;
  try { me = await api('GET', '/me'); } catch (e) { if (e.status !== 401) showLogin('Could not sign in: ' + describe(e)); return; }
  clearMessages();
  S.me = me;
  $('login').hidden = true;
  var who = $('whoami');
  who.replaceChildren('Signed in as ', h('strong', { text: me.name }), ' ', h('span', { class: 'role', 'data-testid': 'role', text: me.role }));
  ['nav', 'whoami', 'signout', 'refresh', 'auto-refresh-label'].forEach(function (id) { $(id).hidden = false; });
  route();
}

/* ---------- routing and refresh ---------- */

/** A dialog belongs to the view it was opened from: any navigation closes it. */
function closeDialogs() { DIALOGS.forEach(function (id) { if ($(id).open) $(id).close(); }); }

/** The hash: '#failures' (the landing view), '#tasks?state=error&namespace=…', '#task/<id>', '#schedules', '#workers', '#types'. */
function currentView() {
  var hash = location.hash;
  if (/^#task\//.test(hash)) return 'task';
  var m = /^#(tasks|schedules|workers|types|failures)(\?|$)/.exec(hash);
  return m ? m[1] : 'failures';
}

function route() {
  if (!S.me) return;
  closeDialogs();
  var view = currentView();
  ['failures', 'tasks', 'schedules', 'workers', 'types'].forEach(function (v) { $('nav-' + v).classList.toggle('current', v === view); });
  var shown = { failures: 'failures-view', tasks: 'list-view', task: 'task-view', schedules: 'schedules-view', workers: 'workers-view', types: 'types-view' }[view];
  VIEWS.forEach(function (id) { if (id !== 'task-view') $(id).hidden = id !== shown; });
  if (view === 'task') {
    openTask(decodeURIComponent(/^#task\/(.+)$/.exec(location.hash)[1]));
    return;
  }
  S.taskId = null;
  $('task-view').hidden = true;
  if (view === 'tasks') { filtersFromHash(); loadList('reset'); }
  else if (view === 'schedules') loadSchedules();
  else if (view === 'workers') loadWorkers();
  else if (view === 'types') loadTypes();
  else loadFailures();
}

function refresh() {
  if (!S.me) return;
  var view = currentView();
  if (view === 'task') loadTask();
  else if (view === 'tasks') loadList('refresh');
  else if (view === 'schedules') loadSchedules();
  else if (view === 'workers') loadWorkers();
  else if (view === 'types') loadTypes();
  else loadFailures();
}

function tick() {
  if (!S.me || S.busy || document.visibilityState !== 'visible' || !$('auto-refresh').checked || DIALOGS.some(function (id) { return $(id).open; })) return;
  if (currentView() === 'task' && S.taskGone === S.taskId) return;
  refresh();
}

function boot() {
  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var key = $('api-key').value.trim();
    if (key) signIn(key);
  });
  $('signout').addEventListener('click', function (ev) { ev.preventDefault(); signOut('Signed out.'); });
  $('refresh').addEventListener('click', refresh);
  initListView();
  initFailuresView();
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
