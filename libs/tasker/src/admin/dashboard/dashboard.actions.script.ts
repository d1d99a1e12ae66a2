/**
 * Dashboard script, part 6: a task's audit trail (to the millisecond, with the zone; operator
 * actions marked; a retried step's attempts numbered on) and the operator actions on one task
 * (retry, cancel, resolve a step, send a signal). Shares its function scope with the other parts.
 */
export const DASHBOARD_ACTIONS_SCRIPT = String.raw`
/* ---------- audit trail ---------- */

/**
 * An operator's action (retry, cancel, resolve, signal): a change by an API key or the app's own
 * call, not by a worker running an attempt (actor "worker:<host>:<pid>:<id>"), nor the creation.
 */
function isOperator(a) { return !!a.actor && !!a.from && !/^worker:/.test(a.actor); }

/**
 * A retry gives a step a fresh attempt budget, so the recorded attempt restarts at 1; the trail
 * numbers a step's attempts on from before (5, 6 after 1–4), the budget's own number in the title.
 */
function attemptNumbers(entries) {
  var last = new Map();
  var offset = new Map();
  return entries.map(function (a) {
    if (!a.stepName) return null;
    // Only a retry moves a step from error back to pending (or waiting): its attempts then count from 1 again.
    if (a.from === 'error' && (a.to === 'pending' || a.to === 'waiting')) {
      offset.set(a.stepName, (offset.get(a.stepName) || 0) + (last.get(a.stepName) || 0));
      last.set(a.stepName, 0);
    }
    if (a.attempt === undefined || a.attempt === null) return null;
    last.set(a.stepName, a.attempt);
    return { n: (offset.get(a.stepName) || 0) + a.attempt, raw: a.attempt };
  });
}

function renderAudit(entries) {
  entries = entries || [];
  var numbers = attemptNumbers(entries);
  var zone = '';
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { zone = ''; }
  $('audit-zone').textContent = 'Times in ' + (zone ? zone + ', ' : '') + 'UTC' + fmtZone(new Date()) + ', to the millisecond';
  var rows = entries.map(function (a, i) {
    var num = numbers[i];
    var op = isOperator(a);
    var at = h('td', { class: 'nowrap mono', 'data-testid': 'audit-at', text: fmtPrecise(a.at) });
    at.title = new Date(a.at).toISOString();
    return h('tr', { 'data-testid': 'audit-row', 'data-step': a.stepName || '', 'data-to': a.to, 'data-operator': op ? 'true' : 'false', class: op ? 'operator' : '' }, [
      at,
      h('td', { class: 'mono name' }, [a.stepName ? a.stepName : h('em', { text: 'task' })]),
      h('td', { class: 'nowrap' }, [a.from ? badge(a.from) : h('span', { class: 'muted', text: '(new)' }), ' \u2192 ', badge(a.to)]),
      h('td', { 'data-testid': 'audit-attempt', title: num && num.n !== num.raw ? 'attempt ' + num.raw + ' of the budget given by the last retry' : null, text: num ? num.n : '' }),
      h('td', {}, [a.actor ? h('span', { 'data-testid': 'audit-actor', text: a.actor }) : null, op ? h('span', { class: 'op-mark', 'data-testid': 'operator-mark', text: 'operator' }) : null]),
      h('td', { text: a.reason || '' }),
      h('td', { text: errorText(a.error) }),
    ]);
  });
  if (!rows.length) rows = [h('tr', {}, [h('td', { class: 'empty', colspan: 7, text: 'No transitions recorded.' })])];
  $('audit-body').replaceChildren.apply($('audit-body'), rows);
  labelCells($('audit-table'));
}

/* ---------- operator actions ---------- */

function openAction(kind, step, signal) {
  if (!S.task) return;
  S.action = { kind: kind, step: step, signal: signal, taskId: S.task.id };
  $('action-title').textContent = kind === 'resolve' ? 'Resolve step "' + step + '" of task ' + S.task.id
    : kind === 'signal' ? 'Send signal "' + signal + '" to task ' + S.task.id
    : (kind === 'retry' ? 'Retry' : 'Cancel') + ' task ' + S.task.id;
  $('action-help').textContent = ACTIONS[kind].hint + (kind === 'signal' ? ' Step "' + step + '" waits for it.' : '');
  $('action-results-field').hidden = kind !== 'resolve';
  $('action-results').value = '';
  $('action-payload-field').hidden = kind !== 'signal';
  $('action-payload').value = '';
  $('action-reason').value = '';
  message($('action-error'), '');
  $('action-confirm').disabled = false;
  $('action-confirm').textContent = kind === 'retry' ? 'Retry task' : kind === 'cancel' ? 'Cancel task' : kind === 'signal' ? 'Send signal' : 'Resolve step';
  $('action-dialog').showModal();
  (kind === 'resolve' ? $('action-results') : kind === 'signal' ? $('action-payload') : $('action-reason')).focus();
}

async function confirmAction(ev) {
  ev.preventDefault();
  var a = S.action;
  if (!a) return;
  var body = {};
  var reason = $('action-reason').value.trim();
  if (reason) body.reason = reason;
  if (a.kind === 'resolve' || a.kind === 'signal') {
    var input = a.kind === 'resolve' ? $('action-results') : $('action-payload');
    var what = a.kind === 'resolve' ? 'Results are' : 'The payload is';
    var raw = input.value.trim();
    if (raw) {
      try { body[a.kind === 'resolve' ? 'results' : 'payload'] = JSON.parse(raw); } catch (e) {
        message($('action-error'), what + ' not valid JSON (nothing was sent): ' + e.message, 'error');
        input.focus();
        return;
      }
    }
  }
  var path = '/tasks/' + encodeURIComponent(a.taskId) + (a.kind === 'resolve' ? '/steps/' + encodeURIComponent(a.step) + '/resolve'
    : a.kind === 'signal' ? '/signals/' + encodeURIComponent(a.signal) : '/' + a.kind);
  $('action-confirm').disabled = true;
  try { await api('POST', path, body); } catch (e) {
    if (e.status !== 401) message($('action-error'), describe(e), 'error');
    return;
  } finally { $('action-confirm').disabled = false; }
  S.action = null;
  $('action-dialog').close();
  var done = a.kind === 'signal' ? 'Signal "' + a.signal + '" sent (' + a.step + ').' : ACTIONS[a.kind].done + (a.step ? ' (' + a.step + ')' : '');
  message($('action-message'), done + (reason ? ' Reason: ' + reason : ''), 'ok');
  loadTask();
}
`;
