/**
 * Dashboard script, part 3: the schedules view (#schedules): every cron schedule with its next and
 * last runs, a link to the last task it created, who last paused or resumed it, and Pause/Resume for
 * operators. Shares its function scope with the other parts (dashboard.core.script.ts).
 */
export const DASHBOARD_SCHEDULES_SCRIPT = String.raw`
var SCHEDULE_HINTS = {
  pause: 'No task is created for its ticks until it is resumed. It pauses this expression in every version of the task that declares it.',
  resume: 'Its next task is for its first tick after now; the ticks missed while it was paused are not run.',
};
var SCH = { items: [], seq: 0, action: null };

function initSchedulesView() {
  $('schedule-form').addEventListener('submit', confirmScheduleAction);
  $('schedule-close').addEventListener('click', function () { $('schedule-dialog').close(); });
}

async function loadSchedules() {
  var seq = ++SCH.seq;
  var items;
  try { items = await api('GET', '/schedules'); } catch (e) {
    if (seq === SCH.seq && e.status !== 401) message($('schedules-message'), describe(e), 'error');
    return;
  }
  if (seq !== SCH.seq) return;
  message($('schedules-message'), '');
  SCH.items = items;
  renderSchedules();
}

function lastChangeText(c) {
  if (!c) return '';
  return c.action + (c.actor ? ' by ' + c.actor : '') + ' ' + fmtTime(c.at) + (c.reason ? ': ' + c.reason : '');
}

function renderSchedules() {
  var rows = SCH.items.map(function (s) {
    var kind = s.paused ? 'resume' : 'pause';
    var act = h('button', {
      type: 'button', class: 'small' + (s.paused ? ' primary' : ''), 'data-testid': 'schedule-' + kind, 'data-name': s.name, 'data-cron': s.cron,
      text: s.paused ? 'Resume' : 'Pause', onclick: function () { openScheduleAction(kind, s); },
    });
    guard(act, SCHEDULE_HINTS[kind]);
    return h('tr', { 'data-testid': 'schedule-row', 'data-namespace': s.namespace, 'data-name': s.name, 'data-version': s.version, 'data-cron': s.cron, 'data-paused': s.paused ? 'true' : 'false' }, [
      h('td', { class: 'mono', text: taskType(s) }),
      h('td', { class: 'mono' }, [h('strong', { 'data-testid': 'schedule-cron', text: s.cron }), h('span', { class: 'sub', text: s.timezone })]),
      h('td', {}, [h('span', { class: 'badge ' + (s.paused ? 's-cancelled' : 's-complete'), 'data-testid': 'schedule-state', text: s.paused ? 'paused' : 'active' })]),
      timeCell(s.nextRunAt),
      timeCell(s.lastRunAt),
      h('td', { class: 'mono' }, [s.lastTaskId ? h('a', { href: '#task/' + encodeURIComponent(s.lastTaskId), 'data-testid': 'schedule-last-task', text: s.lastTaskId }) : '\u2014']),
      h('td', { 'data-testid': 'schedule-change', text: lastChangeText(s.lastChange) }, s.lastError ? [h('span', { class: 'sub', 'data-testid': 'schedule-skipped', text: 'Skipped tick ' + s.lastError })] : []),
      h('td', {}, [h('div', { class: 'row-actions' }, [act])]),
    ]);
  });
  if (!rows.length) rows = [h('tr', {}, [h('td', { class: 'empty', colspan: 8, text: 'No task handler declares a schedule.' })])];
  $('schedules-body').replaceChildren.apply($('schedules-body'), rows);
  labelCells($('schedules-table'));
  $('schedules-readonly').hidden = S.me.role === 'operator';
}

function openScheduleAction(kind, s) {
  SCH.action = { kind: kind, namespace: s.namespace, name: s.name, cron: s.cron };
  message($('schedule-action-message'), '');
  $('schedule-title').textContent = (kind === 'pause' ? 'Pause' : 'Resume') + ' schedule "' + s.cron + '" of ' + s.namespace + '/' + s.name;
  $('schedule-help').textContent = SCHEDULE_HINTS[kind];
  $('schedule-reason').value = '';
  message($('schedule-error'), '');
  $('schedule-confirm').disabled = false;
  $('schedule-confirm').textContent = kind === 'pause' ? 'Pause schedule' : 'Resume schedule';
  $('schedule-dialog').showModal();
  $('schedule-reason').focus();
}

async function confirmScheduleAction(ev) {
  ev.preventDefault();
  var a = SCH.action;
  if (!a) return;
  var body = { namespace: a.namespace, name: a.name, cron: a.cron };
  var reason = $('schedule-reason').value.trim();
  if (reason) body.reason = reason;
  $('schedule-confirm').disabled = true;
  try { await api('POST', '/schedules/' + a.kind, body); } catch (e) {
    if (e.status !== 401) message($('schedule-error'), describe(e), 'error');
    return;
  } finally { $('schedule-confirm').disabled = false; }
  SCH.action = null;
  $('schedule-dialog').close();
  message($('schedule-action-message'), 'Schedule "' + a.cron + '" of ' + a.namespace + '/' + a.name + (a.kind === 'pause' ? ' paused.' : ' resumed.') + (reason ? ' Reason: ' + reason : ''), 'ok');
  loadSchedules();
}
`;
