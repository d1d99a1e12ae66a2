/** The dashboard's stylesheet (inlined into the page; the CSP allows inline style and nothing external). */
export const DASHBOARD_STYLE = String.raw`
:root {
  --bg: #f6f7f9; --card: #fff; --text: #1f2328; --muted: #656d76; --line: #d8dee4; --accent: #2563eb;
  --pending-bg: #f4f4f5; --pending: #71717a; --pending-fg: #3f3f46;
  --in_progress-bg: #dbeafe; --in_progress: #2563eb; --in_progress-fg: #1e3a8a;
  --complete-bg: #dcfce7; --complete: #16a34a; --complete-fg: #14532d;
  --error-bg: #fee2e2; --error: #dc2626; --error-fg: #7f1d1d;
  --cancelled-bg: #e5e7eb; --cancelled: #4b5563; --cancelled-fg: #374151;
  --resolved_manually-bg: #fef9c3; --resolved_manually: #ca8a04; --resolved_manually-fg: #713f12;
  --skipped-bg: #fafafa; --skipped: #a1a1aa; --skipped-fg: #52525b;
  --waiting-bg: #ede9fe; --waiting: #7c3aed; --waiting-fg: #4c1d95;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
h1 { font-size: 18px; margin: 0; }
h2 { font-size: 15px; margin: 0 0 10px; }
h3 { font-size: 13px; margin: 14px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
pre, code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { margin: 0; padding: 8px 10px; background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; overflow: auto; max-height: 320px; white-space: pre-wrap; word-break: break-word; }
.topbar { display: flex; align-items: center; gap: 14px; padding: 10px 20px; background: #111827; color: #e5e7eb; }
.topbar .brand { color: #fff; font-weight: 700; font-size: 16px; }
.topbar a { color: #93c5fd; }
.topbar label { display: flex; align-items: center; gap: 4px; color: #d1d5db; }
.spacer { flex: 1; }
.nav { display: flex; gap: 12px; }
.topbar .nav a.current { color: #fff; font-weight: 600; }
main { padding: 16px 20px 40px; max-width: 1400px; margin: 0 auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 16px; }
.login { max-width: 420px; margin: 60px auto; display: flex; flex-direction: column; gap: 10px; }
.muted { color: var(--muted); }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; margin-bottom: 12px; }
.toolbar label { display: flex; align-items: center; gap: 6px; color: var(--muted); }
input, select, textarea { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--text); }
textarea { width: 100%; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
button { white-space: nowrap; font: inherit; padding: 5px 12px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--text); cursor: pointer; }
button:hover:not(:disabled) { border-color: #9ca3af; }
button:disabled { opacity: .5; cursor: not-allowed; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.danger { color: var(--error); border-color: #fca5a5; }
button.small { padding: 2px 8px; font-size: 12px; }
.message { margin: 0 0 12px; padding: 8px 12px; border-radius: 6px; border: 1px solid; }
.message.error { background: var(--error-bg); border-color: #fca5a5; color: var(--error-fg); }
.message.ok { background: var(--complete-bg); border-color: #86efac; color: var(--complete-fg); }
.message.info { background: var(--in_progress-bg); border-color: #93c5fd; color: var(--in_progress-fg); }
table.grid { width: 100%; border-collapse: collapse; background: var(--card); }
.grid th, .grid td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.grid th { font-size: 12px; color: var(--muted); font-weight: 600; background: #f9fafb; }
.grid tbody tr.clickable { cursor: pointer; }
.grid tbody tr.clickable:hover { background: #f3f6fb; }
.grid td.empty { color: var(--muted); text-align: center; padding: 18px; }
.nowrap { white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; border: 1px solid; white-space: nowrap; }
.role { display: inline-block; padding: 0 6px; border-radius: 4px; background: #374151; color: #fff; font-size: 12px; }
.footer-row { display: flex; align-items: center; justify-content: space-between; margin-top: 10px; }
.task-head { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; margin-bottom: 12px; }
.columns { display: grid; grid-template-columns: minmax(300px, 1fr) minmax(300px, 1.4fr); gap: 16px; }
@media (max-width: 900px) { .columns { grid-template-columns: 1fr; } }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; word-break: break-word; }
.graph { overflow: auto; }
.graph svg { display: block; }
.graph .node { cursor: pointer; }
.graph .node rect { stroke-width: 1.5; }
.graph .node text { font-size: 12px; fill: var(--text); }
.graph .node text.sub { font-size: 11px; fill: var(--muted); }
.graph .node.s-cancelled rect { stroke-dasharray: 4 2; }
.graph .node.s-skipped rect { stroke-dasharray: 2 3; }
.graph .edge { fill: none; stroke: #9ca3af; stroke-width: 1.5; }
.graph .edge.instance { stroke-dasharray: 3 3; }
.legend { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0; }
.card-head { display: flex; align-items: center; justify-content: space-between; gap: 10px; margin-bottom: 10px; }
.card-head h2 { margin: 0; }
.card-head label { display: flex; align-items: center; gap: 6px; }
.held { color: var(--waiting-fg); }
.counts { font-weight: 600; }
.grid td .sub { display: block; font-size: 12px; color: var(--muted); }
.grid td .row-actions { display: flex; flex-direction: column; gap: 4px; align-items: flex-start; }
tr.instance-row td { background: #fbfaff; }
tr.instance-row td:first-child { padding-left: 26px; }
tr.instance-note td { color: var(--muted); padding-left: 26px; font-size: 12px; }
.error-row td { background: #fff7f7; }
.error-box { border-left: 3px solid var(--error); padding: 4px 10px; }
.error-box .err-name { font-weight: 700; color: var(--error-fg); }
.error-box .code { margin-left: 8px; padding: 0 6px; border-radius: 4px; background: var(--error-bg); color: var(--error-fg); }
details summary { cursor: pointer; color: var(--accent); }
details pre { margin-top: 6px; }
.grid td.results pre { white-space: pre; max-width: 320px; }
.table-wrap { max-width: 100%; overflow-x: auto; }
/* Long values (stack traces, results, worker ids) break anywhere so the tables fit; step names stay whole. */
#steps-table td, #audit-table td { overflow-wrap: anywhere; }
/* Depends on: lines break between step names, inside one only when it alone is wider than the cell. */
#steps-table td.deps { overflow-wrap: break-word; }
.grid td.name { overflow-wrap: normal; white-space: nowrap; }
.counts-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin-bottom: 12px; }
.count-chip { display: inline-flex; gap: 4px; align-items: baseline; padding: 2px 10px; border-radius: 999px; border: 1px solid; font-size: 13px; }
.count-chip .n { font-weight: 700; }
.count-chip.zero { opacity: .55; }
.grid td.count { font-weight: 700; font-size: 15px; }
.grid td .code, .failing .code { margin-left: 8px; padding: 0 6px; border-radius: 4px; background: var(--error-bg); color: var(--error-fg); }
.grid td.failing .sub { color: var(--error-fg); }
.error-row.history td { background: #f9fafb; }
.error-box.history { border-left-color: var(--line); color: var(--muted); }
.error-box.history .err-name { color: var(--muted); }
tr.operator td { background: #f5f8ff; }
.op-mark { display: inline-block; margin-left: 6px; padding: 0 6px; border-radius: 4px; background: var(--in_progress-bg); color: var(--in_progress-fg); font-size: 11px; font-weight: 600; }
.step-chip { display: inline-block; margin: 0 4px 4px 0; padding: 0 6px; border: 1px solid var(--line); border-radius: 4px; }
#bulk-result a { margin-right: 4px; }
/* Up to 1300 px the steps table's times wrap (date over time) and its results stay narrow, so eleven columns fit. */
@media (max-width: 1300px) {
  .grid th, .grid td { padding: 5px 5px; }
  #steps-table td.nowrap { white-space: normal; }
  #steps-table .results pre { max-width: 170px; }
}
@media (max-width: 1100px) { #steps-table .results pre { max-width: 140px; } }
@media (max-width: 640px) {
  .topbar { flex-wrap: wrap; padding: 8px 12px; gap: 8px; }
  .nav { flex-wrap: wrap; gap: 10px; }
  main { padding: 12px 10px 30px; }
  .card { padding: 10px; }
  /* Tables become one block per row, each cell under its column's name. */
  .grid thead { display: none; }
  .grid, .grid tbody, .grid tr, .grid td { display: block; width: 100%; }
  .grid tr { border-bottom: 2px solid var(--line); padding: 4px 0; }
  .grid td { border-bottom: none; padding: 2px 6px; }
  .grid td[data-label]::before { content: attr(data-label); display: block; font-size: 11px; color: var(--muted); }
  /* A cell with nothing in it (no failing step, no reason, no actions) shows no label either. */
  .grid td:empty, .grid td:has(> .row-actions:empty) { display: none; }
  .grid td .row-actions { flex-direction: row; flex-wrap: wrap; }
  .grid td.results pre { max-width: 100%; }
  .nowrap { white-space: normal; }
  dl.fields { grid-template-columns: 1fr; }
}
tr.flash td { animation: flash 1.5s ease-out; }
@keyframes flash { from { background: #fef08a; } to { background: transparent; } }
dialog { border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; width: min(560px, 92vw); }
dialog::backdrop { background: rgba(17, 24, 39, .45); }
dialog form { display: flex; flex-direction: column; gap: 8px; }
dialog .actions { display: flex; justify-content: flex-end; gap: 8px; margin-top: 6px; }
`;

/** Step states (task states and skipped, waiting): every state a badge or a graph node can show. */
const STATES = ['pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually', 'skipped', 'waiting'];

/** Badge and graph-node colours, one rule set per state (the same palette as the Mermaid graph). */
export const STATE_STYLE = STATES.map(
  (s) =>
    `.badge.s-${s}, .count-chip.s-${s} { background: var(--${s}-bg); border-color: var(--${s}); color: var(--${s}-fg); }\n` +
    `.graph .node.s-${s} rect { fill: var(--${s}-bg); stroke: var(--${s}); }\n`,
).join('');
