/**
 * Dashboard script, part 8: who will pick up work. The workers view (#workers): each live worker,
 * how many steps it runs of how many places, and the task types it runs. The task types view
 * (#types, from /handlers): each registered type version, its steps, and the live workers that run
 * it, so an operator sees whether a retry will be picked up. Shares its function scope with the others.
 */
export const DASHBOARD_FLEET_SCRIPT = String.raw`
var FLEET = { seq: 0 };

async function loadWorkers() {
  var seq = ++FLEET.seq;
  var workers;
  try { workers = await api('GET', '/workers'); } catch (e) {
    if (seq === FLEET.seq && e.status !== 401) message($('workers-message'), describe(e), 'error');
    return;
  }
  if (seq !== FLEET.seq) return;
  message($('workers-message'), '');
  var rows = workers.map(function (w) {
    return h('tr', { 'data-testid': 'worker-row', 'data-worker': w.id }, [
      h('td', { class: 'mono', text: w.id }),
      h('td', { class: 'mono', text: w.hostname + ' (pid ' + w.pid + ')' }),
      h('td', { 'data-testid': 'worker-running', text: w.inFlight + ' of ' + w.concurrency + ' places' }),
      h('td', { class: 'mono', 'data-testid': 'worker-types' }, [(w.taskTypes || []).length ? (w.taskTypes || []).join(', ') : h('em', { text: 'no task handlers' })]),
      timeCell(w.startedAt),
      timeCell(w.lastSeenAt),
    ]);
  });
  if (!rows.length) rows = [h('tr', {}, [h('td', { class: 'empty', colspan: 6, 'data-testid': 'no-workers', text: 'No worker is alive: no step will run, and a retry waits until one starts.' })])];
  $('workers-body').replaceChildren.apply($('workers-body'), rows);
  labelCells($('workers-table'));
}

async function loadTypes() {
  var seq = ++FLEET.seq;
  var r;
  try { r = await Promise.all([api('GET', '/handlers'), api('GET', '/workers')]); } catch (e) {
    if (seq === FLEET.seq && e.status !== 401) message($('types-message'), describe(e), 'error');
    return;
  }
  if (seq !== FLEET.seq) return;
  message($('types-message'), '');
  var workers = r[1];
  var rows = r[0].map(function (t) {
    var type = taskType(t);
    var serving = workers.filter(function (w) { return (w.taskTypes || []).indexOf(type) >= 0; });
    return h('tr', { 'data-testid': 'type-row', 'data-type': type, 'data-workers': serving.length }, [
      h('td', { class: 'mono' }, [h('strong', { text: type }), t.description ? h('span', { class: 'sub', text: t.description }) : null]),
      h('td', { class: 'mono' }, t.steps.map(function (s) {
        return h('span', { class: 'step-chip', title: 'retries ' + s.retryLimit + (s.dependsOn.length ? '; after ' + s.dependsOn.join(', ') : ''), text: s.name });
      })),
      h('td', { 'data-testid': 'type-workers', class: serving.length ? '' : 'held' }, [serving.length ? serving.length + (serving.length === 1 ? ' worker' : ' workers') : 'none: its steps wait for a worker']),
      timeCell(t.updatedAt),
      h('td', {}, [h('a', { href: listHash(new URLSearchParams({ namespace: t.namespace, name: t.name })), text: 'Tasks \u2192' })]),
    ]);
  });
  if (!rows.length) rows = [h('tr', {}, [h('td', { class: 'empty', colspan: 5, text: 'No task type is registered.' })])];
  $('types-body').replaceChildren.apply($('types-body'), rows);
  labelCells($('types-table'));
}
`;
