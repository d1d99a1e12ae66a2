/**
 * A task's DAG for display: nodes with states, edges, and a Mermaid flowchart. Pure.
 *
 * A map step is ONE node with its instance counts (`resize ×10: 7 done, 2 running, 1 failed`); its
 * instances (`resize[0]`, …) are left out unless the map step is expanded (`expand`): then they are
 * nodes too, each linked from its map step by an edge of kind `instance`, at most
 * MAX_EXPANDED_INSTANCES of them (failed ones first, then running, pending, done). Edges to and from
 * the map step stay as they are either way.
 */
export interface InstanceCounts {
  total: number;
  done: number;
  running: number;
  failed: number;
  /** Neither done, running nor failed for good (not started yet, or waiting for a retry). */
  pending: number;
}

export interface GraphNode {
  id: string;
  state?: string;
  attempts?: number;
  retryLimit?: number;
  /** What holds the step or why it did not run, when that is a sentence (readiness.reason): `waiting for signal "approved"`, `condition false`, … */
  reason?: string;
  /** A waiting step: what it waits for (signal name, child task id, sleep end, map instances). */
  waitingFor?: unknown;
  /** A map step: its instance counts, and its label with them (`resize ×10: 7 done, 2 running, 1 failed`). */
  instances?: InstanceCounts;
  label?: string;
  /** A map step whose instances are nodes of this graph; `shown` < instances.total when they were too many. */
  expanded?: { shown: number };
  /** An instance node (only in an expanded graph): its map step and item index. */
  mapOf?: string;
  mapIndex?: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** `instance`: from a map step to one of its instances (expanded graphs only). */
  kind?: 'instance';
}

export interface TaskGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  mermaid: string;
}

/** A step as getTask (or a task type) describes it; only `name` and `dependsOn` are required. */
export interface GraphStep {
  name: string;
  dependsOn: string[];
  state?: string;
  attempts?: number;
  retryLimit?: number;
  readiness?: { reason: string };
  waitingFor?: unknown;
  mapOf?: string;
  mapIndex?: number;
  instances?: { total: number; done: number; running: number; failed: number };
}

export interface GraphOptions {
  /** Map steps whose instances become nodes; `'*'`: every map step. */
  expand?: ReadonlySet<string> | '*';
}

/** An expanded map step shows at most this many instance nodes. */
export const MAX_EXPANDED_INSTANCES = 200;

const STYLE: Record<string, string> = {
  pending: 'fill:#f4f4f5,stroke:#71717a,color:#18181b',
  in_progress: 'fill:#dbeafe,stroke:#2563eb,color:#1e3a8a',
  complete: 'fill:#dcfce7,stroke:#16a34a,color:#14532d',
  error: 'fill:#fee2e2,stroke:#dc2626,color:#7f1d1d',
  cancelled: 'fill:#e5e7eb,stroke:#4b5563,color:#374151,stroke-dasharray: 4 2',
  resolved_manually: 'fill:#fef9c3,stroke:#ca8a04,color:#713f12',
  skipped: 'fill:#fafafa,stroke:#a1a1aa,color:#71717a,stroke-dasharray: 2 3',
  waiting: 'fill:#ede9fe,stroke:#7c3aed,color:#4c1d95',
};

/** Mermaid labels are quoted; quotes and markup characters inside become entities. */
function label(text: string): string {
  return text.replace(/[&"<>#]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** Readiness codes (`waiting_for_dependencies`) say nothing more than the state; sentences do. */
const isSentence = (reason: string | undefined): reason is string => !!reason && reason.includes(' ');

export function instanceCounts(i: { total: number; done: number; running: number; failed: number }): InstanceCounts {
  return { ...i, pending: Math.max(0, i.total - i.done - i.running - i.failed) };
}

/** `resize ×10: 7 done, 2 running, 1 failed` (zero counts left out; `resize ×0` for an empty map). */
export function mapLabel(name: string, c: InstanceCounts): string {
  const parts = (['done', 'running', 'failed', 'pending'] as const).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`);
  return `${name} ×${c.total}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

/** Which instances an expanded map step shows when it has too many: failed, running, pending, then done; in item order. */
const PRIORITY: Record<string, number> = { error: 0, in_progress: 1, waiting: 1, pending: 2 };

function pickInstances(instances: GraphStep[]): GraphStep[] {
  if (instances.length <= MAX_EXPANDED_INSTANCES) return instances;
  const rank = (s: GraphStep) => PRIORITY[s.state ?? ''] ?? 3;
  const picked = new Set(
    [...instances].sort((a, b) => rank(a) - rank(b) || (a.mapIndex ?? 0) - (b.mapIndex ?? 0)).slice(0, MAX_EXPANDED_INSTANCES),
  );
  return instances.filter((s) => picked.has(s));
}

function toNode(s: GraphStep): GraphNode {
  return {
    id: s.name,
    ...(s.state !== undefined ? { state: s.state } : {}),
    ...(s.attempts !== undefined ? { attempts: s.attempts } : {}),
    ...(s.retryLimit !== undefined ? { retryLimit: s.retryLimit } : {}),
    ...(isSentence(s.readiness?.reason) ? { reason: s.readiness.reason } : {}),
    ...(s.waitingFor !== undefined ? { waitingFor: s.waitingFor } : {}),
  };
}

export function buildGraph(steps: GraphStep[], opts: GraphOptions = {}): TaskGraph {
  const expand = opts.expand ?? new Set<string>();
  const isExpanded = (name: string) => expand === '*' || expand.has(name);
  const byMap = new Map<string, GraphStep[]>();
  for (const s of steps) if (s.mapOf !== undefined) byMap.set(s.mapOf, [...(byMap.get(s.mapOf) ?? []), s]);

  // The steps drawn, in the task's order: an expanded map step is followed by the instances it shows.
  const shown: GraphStep[] = [];
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const instanceEdges: GraphEdge[] = [];
  for (const s of steps) {
    if (s.mapOf !== undefined) continue;
    const node = toNode(s);
    shown.push(s);
    nodes.push(node);
    edges.push(...s.dependsOn.map((d) => ({ from: d, to: s.name })));
    if (!s.instances) continue;
    node.instances = instanceCounts(s.instances);
    node.label = mapLabel(s.name, node.instances);
    if (!isExpanded(s.name)) continue;
    const instances = pickInstances(byMap.get(s.name) ?? []);
    node.expanded = { shown: instances.length };
    for (const i of instances) {
      shown.push(i);
      nodes.push({ ...toNode(i), mapOf: s.name, ...(i.mapIndex !== undefined ? { mapIndex: i.mapIndex } : {}) });
      instanceEdges.push({ from: s.name, to: i.name, kind: 'instance' });
    }
  }
  edges.push(...instanceEdges);

  const ids = new Map(shown.map((s, i) => [s.name, `s${i}`]));
  const lines = ['flowchart TD'];
  shown.forEach((s, i) => {
    const n = nodes[i];
    let text = label(n.label ?? s.name);
    if (n.expanded && n.instances && n.expanded.shown < n.instances.total) text += `<br/>${n.expanded.shown} of ${n.instances.total} instances shown`;
    if (s.state) text += `<br/>${s.state}`;
    if (n.reason && !n.instances) text += `<br/>${label(n.reason)}`;
    lines.push(`  ${ids.get(s.name)}["${text}"]${s.state ? `:::${s.state}` : ''}`);
  });
  for (const e of edges) {
    const from = ids.get(e.from);
    const to = ids.get(e.to);
    if (from && to) lines.push(`  ${from} ${e.kind === 'instance' ? '-.->' : '-->'} ${to}`);
  }
  const used = new Set(shown.map((s) => s.state).filter((x): x is string => !!x));
  for (const state of used) if (STYLE[state]) lines.push(`  classDef ${state} ${STYLE[state]}`);
  return { nodes, edges, mermaid: lines.join('\n') };
}
