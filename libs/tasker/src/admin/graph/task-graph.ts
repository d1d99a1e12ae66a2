/** A task's DAG for display: nodes with states, edges, and a Mermaid flowchart. Pure. */
export interface GraphNode {
  id: string;
  state?: string;
  attempts?: number;
  retryLimit?: number;
}

export interface TaskGraph {
  nodes: GraphNode[];
  edges: { from: string; to: string }[];
  mermaid: string;
}

const STYLE: Record<string, string> = {
  pending: 'fill:#f4f4f5,stroke:#71717a,color:#18181b',
  in_progress: 'fill:#dbeafe,stroke:#2563eb,color:#1e3a8a',
  complete: 'fill:#dcfce7,stroke:#16a34a,color:#14532d',
  error: 'fill:#fee2e2,stroke:#dc2626,color:#7f1d1d',
  cancelled: 'fill:#e5e7eb,stroke:#4b5563,color:#374151,stroke-dasharray: 4 2',
  resolved_manually: 'fill:#fef9c3,stroke:#ca8a04,color:#713f12',
};

/** Mermaid labels are quoted; quotes and markup characters inside become entities. */
function label(text: string): string {
  return text.replace(/[&"<>#]/g, (c) => `#${c.charCodeAt(0)};`);
}

export function buildGraph(steps: { name: string; dependsOn: string[]; state?: string; attempts?: number; retryLimit?: number }[]): TaskGraph {
  const ids = new Map(steps.map((s, i) => [s.name, `s${i}`]));
  const nodes: GraphNode[] = steps.map((s) => ({
    id: s.name,
    ...(s.state !== undefined ? { state: s.state } : {}),
    ...(s.attempts !== undefined ? { attempts: s.attempts } : {}),
    ...(s.retryLimit !== undefined ? { retryLimit: s.retryLimit } : {}),
  }));
  const edges = steps.flatMap((s) => s.dependsOn.map((d) => ({ from: d, to: s.name })));
  const lines = ['flowchart TD'];
  for (const s of steps) {
    const text = s.state ? `${label(s.name)}<br/>${s.state}` : label(s.name);
    lines.push(`  ${ids.get(s.name)}["${text}"]${s.state ? `:::${s.state}` : ''}`);
  }
  for (const e of edges) {
    const from = ids.get(e.from);
    const to = ids.get(e.to);
    if (from && to) lines.push(`  ${from} --> ${to}`);
  }
  const used = new Set(steps.map((s) => s.state).filter((x): x is string => !!x));
  for (const state of used) if (STYLE[state]) lines.push(`  classDef ${state} ${STYLE[state]}`);
  return { nodes, edges, mermaid: lines.join('\n') };
}
