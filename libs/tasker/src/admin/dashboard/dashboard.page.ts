import { DASHBOARD_ACTIONS_SCRIPT } from './dashboard.actions.script';
import { DASHBOARD_CORE_SCRIPT } from './dashboard.core.script';
import { DASHBOARD_FAILURES_SCRIPT } from './dashboard.failures.script';
import { DASHBOARD_FLEET_SCRIPT } from './dashboard.fleet.script';
import { DASHBOARD_GRAPH_SCRIPT } from './dashboard.graph.script';
import { DASHBOARD_LIST_SCRIPT } from './dashboard.list.script';
import { DASHBOARD_SCHEDULES_SCRIPT } from './dashboard.schedules.script';
import { DASHBOARD_STYLE, STATE_STYLE } from './dashboard.style';
import { DASHBOARD_TASK_SCRIPT } from './dashboard.task.script';

/**
 * The operator dashboard: one self-contained page (inline CSS and vanilla JS, nothing external, so
 * the strict CSP of DashboardController holds: its one script runs by the nonce of the response). It asks for an API key, keeps it in sessionStorage
 * and calls the admin API with it; every text it shows is inserted with textContent.
 *
 * Elements the browser tests (test/admin/dashboard*.e2e-spec.ts) drive have ids or data-testid attributes.
 */
const BODY = String.raw`
<header class="topbar">
  <a class="brand" href="#failures">Tasker</a>
  <nav id="nav" class="nav" hidden>
    <a href="#failures" id="nav-failures" data-testid="nav-failures">Failures</a><a href="#tasks" id="nav-tasks" data-testid="nav-tasks">Tasks</a><a href="#schedules" id="nav-schedules" data-testid="nav-schedules">Schedules</a><a href="#workers" id="nav-workers" data-testid="nav-workers">Workers</a><a href="#types" id="nav-types" data-testid="nav-types">Task types</a>
  </nav>
  <span class="spacer"></span>
  <label id="auto-refresh-label" hidden><input type="checkbox" id="auto-refresh" checked> Auto-refresh</label>
  <button type="button" id="refresh" class="small" hidden>Refresh</button>
  <span id="whoami" data-testid="whoami" hidden></span>
  <a id="signout" href="#" hidden>Sign out</a>
</header>
<main>
  <section id="login" hidden>
    <form id="login-form" class="card login" autocomplete="off">
      <h1>Sign in to Tasker</h1>
      <p class="muted">Enter an API key. It stays in this browser tab (sessionStorage) and is sent as a Bearer token with every request.</p>
      <p class="muted" id="key-hint">Keys are configured as <code>name:role:secret</code> entries (TASKER_API_KEYS): enter only the <strong>secret</strong>, the part after the second colon.</p>
      <label for="api-key">API key (the secret)</label>
      <input id="api-key" type="password" required>
      <p id="login-message" class="message error" role="alert" hidden></p>
      <button type="submit" id="login-submit" class="primary">Sign in</button>
    </form>
  </section>

  <section id="failures-view" hidden>
    <div class="task-head">
      <h1>Failures</h1>
      <span class="muted">Failed tasks grouped by task type, step and error, most frequent first.</span>
      <span class="spacer"></span>
      <span id="failures-readonly" class="muted readonly" data-testid="readonly-note" hidden>Read-only: viewer key; actions need an operator key</span>
    </div>
    <p id="failures-message" class="message error" role="alert" hidden></p>
    <div id="bulk-result" class="message ok" role="status" data-testid="bulk-result" hidden></div>
    <div class="table-wrap">
      <table class="grid" id="failures-table">
        <thead><tr><th>Task type</th><th>Step</th><th>Error</th><th>Tasks</th><th>First seen</th><th>Last seen</th><th>Sample</th><th></th></tr></thead>
        <tbody id="failures-body"></tbody>
      </table>
    </div>
  </section>

  <section id="list-view" hidden>
    <div id="state-counts" class="counts-bar" data-testid="state-counts"></div>
    <form id="filters" class="toolbar">
      <label>State <select id="filter-state"><option value="">any</option></select></label>
      <label>Namespace <input id="filter-namespace" size="14" placeholder="any"></label>
      <label>Name <input id="filter-name" size="18" placeholder="any"></label>
      <button type="submit" id="filter-apply">Apply</button>
      <button type="button" id="filter-failed" class="danger">Failed only</button>
      <button type="button" id="filter-clear">Clear</button>
    </form>
    <p id="list-message" class="message error" role="alert" hidden></p>
    <div class="table-wrap">
      <table class="grid" id="tasks-table">
        <thead><tr><th>ID</th><th>Task</th><th>State</th><th>Failing step and error</th><th>Created</th><th>Completed</th><th>Initiator</th></tr></thead>
        <tbody id="tasks-body"></tbody>
      </table>
    </div>
    <div class="footer-row">
      <span id="list-count" class="muted"></span>
      <button type="button" id="load-more" hidden>Load more</button>
    </div>
  </section>

  <section id="schedules-view" hidden>
    <div class="task-head">
      <h1>Schedules</h1>
      <span class="muted">Each tick of a cron schedule creates one task, whichever process fires it.</span>
      <span class="spacer"></span>
      <span id="schedules-readonly" class="muted readonly" data-testid="readonly-note" hidden>Read-only: viewer key; actions need an operator key</span>
    </div>
    <p id="schedules-message" class="message error" role="alert" hidden></p>
    <p id="schedule-action-message" class="message ok" role="status" hidden></p>
    <div class="table-wrap">
      <table class="grid" id="schedules-table">
        <thead><tr><th>Task</th><th>Cron</th><th>State</th><th>Next run</th><th>Last run</th><th>Last task</th><th>Last change</th><th></th></tr></thead>
        <tbody id="schedules-body"></tbody>
      </table>
    </div>
  </section>

  <section id="workers-view" hidden>
    <div class="task-head">
      <h1>Workers</h1>
      <span class="muted">Worker processes that sent a heartbeat within one lease period: if none serves a task type, nothing runs its steps (nor a retry).</span>
    </div>
    <p id="workers-message" class="message error" role="alert" hidden></p>
    <div class="table-wrap">
      <table class="grid" id="workers-table">
        <thead><tr><th>Worker</th><th>Host and pid</th><th>Running</th><th>Task types it runs</th><th>Started</th><th>Last heartbeat</th></tr></thead>
        <tbody id="workers-body"></tbody>
      </table>
    </div>
  </section>

  <section id="types-view" hidden>
    <div class="task-head">
      <h1>Task types</h1>
      <span class="muted">Every registered task type version with its steps, and the live workers that run it.</span>
    </div>
    <p id="types-message" class="message error" role="alert" hidden></p>
    <div class="table-wrap">
      <table class="grid" id="types-table">
        <thead><tr><th>Task type</th><th>Steps</th><th>Live workers</th><th>Registered</th><th></th></tr></thead>
        <tbody id="types-body"></tbody>
      </table>
    </div>
  </section>

  <section id="task-view" hidden>
    <div class="task-head">
      <a href="#tasks" id="back">&larr; All tasks</a>
      <h1 id="task-title"></h1>
      <span id="task-state" class="badge" data-testid="task-state"></span>
      <span id="task-type" class="muted mono"></span>
      <span class="spacer"></span>
      <span id="readonly-note" class="muted readonly" data-testid="readonly-note" hidden>Read-only: viewer key; actions need an operator key</span>
      <button type="button" id="retry-task" data-testid="retry-task">Retry</button>
      <button type="button" id="cancel-task" data-testid="cancel-task" class="danger">Cancel</button>
    </div>
    <p id="task-message" class="message error" role="alert" hidden></p>
    <p id="action-message" class="message ok" role="status" hidden></p>
    <div id="task-body">
    <div class="columns">
      <div class="card">
        <h2>Task</h2>
        <dl id="task-fields" class="fields"></dl>
        <h3>Context</h3>
        <pre id="task-context" data-testid="task-context"></pre>
      </div>
      <div class="card">
        <h2>Graph</h2>
        <div id="task-graph" class="graph" data-testid="task-graph"></div>
        <div id="state-legend" class="legend" data-testid="state-legend"></div>
        <div id="task-mermaid"></div>
      </div>
    </div>
    <div class="card">
      <div class="card-head">
        <h2>Steps</h2>
        <label class="muted">State <select id="step-filter" data-testid="step-filter"><option value="">any</option></select></label>
      </div>
      <div class="table-wrap">
        <table class="grid" id="steps-table">
          <thead><tr><th>Step</th><th>State</th><th>Attempts</th><th>Next retry</th><th>Started</th><th>Completed</th><th>Duration</th><th>Readiness</th><th>Depends on</th><th>Results</th><th></th></tr></thead>
          <tbody id="steps-body"></tbody>
        </table>
      </div>
    </div>
    <div class="card">
      <div class="card-head"><h2>Audit trail</h2><span class="muted" id="audit-zone" data-testid="audit-zone"></span></div>
      <div class="table-wrap">
        <table class="grid" id="audit-table">
          <thead><tr><th>At</th><th>Step</th><th>Transition</th><th>Attempt</th><th>Actor</th><th>Reason</th><th>Error</th></tr></thead>
          <tbody id="audit-body"></tbody>
        </table>
      </div>
    </div>
    </div>
  </section>
</main>

<dialog id="schedule-dialog" data-testid="schedule-dialog">
  <form id="schedule-form">
    <h2 id="schedule-title"></h2>
    <p id="schedule-help" class="muted"></p>
    <label for="schedule-reason">Reason (recorded with the schedule's last change)</label>
    <input id="schedule-reason" maxlength="1000" placeholder="why">
    <p id="schedule-error" class="message error" role="alert" hidden></p>
    <div class="actions">
      <button type="button" id="schedule-close">Close</button>
      <button type="submit" id="schedule-confirm" class="primary">Confirm</button>
    </div>
  </form>
</dialog>

<dialog id="bulk-dialog" data-testid="bulk-dialog">
  <form id="bulk-form">
    <h2 id="bulk-title"></h2>
    <p id="bulk-help" class="muted"></p>
    <label for="bulk-reason">Reason (recorded in the audit trail of every task)</label>
    <input id="bulk-reason" maxlength="1000" placeholder="why">
    <p id="bulk-error" class="message error" role="alert" hidden></p>
    <div class="actions">
      <button type="button" id="bulk-close">Close</button>
      <button type="submit" id="bulk-confirm" class="primary">Confirm</button>
    </div>
  </form>
</dialog>

<dialog id="action-dialog" data-testid="action-dialog">
  <form id="action-form">
    <h2 id="action-title"></h2>
    <p id="action-help" class="muted"></p>
    <div id="action-results-field" hidden>
      <label for="action-results">Results (JSON, empty for none)</label>
      <textarea id="action-results" rows="6" spellcheck="false" placeholder='{ "paymentId": "manual-123" }'></textarea>
    </div>
    <div id="action-payload-field" hidden>
      <label for="action-payload">Payload (JSON, empty for null): the waiting step's results</label>
      <textarea id="action-payload" rows="6" spellcheck="false" placeholder='{ "approvedBy": "alice" }'></textarea>
    </div>
    <label for="action-reason">Reason (recorded in the audit trail)</label>
    <input id="action-reason" maxlength="1000" placeholder="why">
    <p id="action-error" class="message error" role="alert" hidden></p>
    <div class="actions">
      <button type="button" id="action-close">Close</button>
      <button type="submit" id="action-confirm" class="primary">Confirm</button>
    </div>
  </form>
</dialog>
`;

/** One function scope for every part: each view's script in its own file. */
const DASHBOARD_SCRIPTS = [
  DASHBOARD_CORE_SCRIPT, DASHBOARD_LIST_SCRIPT, DASHBOARD_FAILURES_SCRIPT, DASHBOARD_TASK_SCRIPT, DASHBOARD_GRAPH_SCRIPT,
  DASHBOARD_ACTIONS_SCRIPT, DASHBOARD_SCHEDULES_SCRIPT, DASHBOARD_FLEET_SCRIPT,
].join('');

const NONCE = '__TASKER_CSP_NONCE__';

const DASHBOARD_HTML =
  '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
  '<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="referrer" content="no-referrer">\n' +
  '<title>Tasker dashboard</title>\n<link rel="icon" href="data:,">\n' +
  '<style>' + DASHBOARD_STYLE + STATE_STYLE + '</style>\n</head>\n<body>' + BODY +
  '<script nonce="' + NONCE + '">\n(function () {\n\'use strict\';\n' + DASHBOARD_SCRIPTS + '\nboot();\n})();\n</script>\n</body>\n</html>\n';

/** The page with its script allowed by `nonce` (a fresh one per response, named in the page's CSP). */
export function dashboardHtml(nonce: string): string {
  return DASHBOARD_HTML.replace(NONCE, nonce);
}
