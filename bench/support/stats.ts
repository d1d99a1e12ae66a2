/** One workload's figure over several runs. */
export interface Result {
  workload: string;
  metric: string;
  better: 'higher' | 'lower';
  median: number;
  min: number;
  max: number;
  runs: number[];
  /** The target for this figure, printed next to it (never asserted). */
  target?: { value: number; met: boolean };
  note?: string;
  /** Per run, what else was measured (e.g. CPU per job), in run order. */
  extras?: Record<string, number>[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function summarize(
  workload: string,
  metric: string,
  better: 'higher' | 'lower',
  runs: number[],
  target?: number,
  note?: string,
): Result {
  const med = median(runs);
  return {
    workload,
    metric,
    better,
    median: med,
    min: Math.min(...runs),
    max: Math.max(...runs),
    runs,
    ...(target === undefined ? {} : { target: { value: target, met: better === 'higher' ? med >= target : med <= target } }),
    ...(note ? { note } : {}),
  };
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(2));

/** A plain-text table of results, as printed at the end of a bench run. */
export function table(results: Result[]): string {
  const rows = results.map((r) => [
    r.workload,
    `${fmt(r.median)} ${r.metric}`,
    `${fmt(r.min)}–${fmt(r.max)}`,
    r.target ? `${r.better === 'higher' ? '≥' : '≤'} ${fmt(r.target.value)} ${r.target.met ? 'met' : 'MISSED'}` : '',
    r.note ?? '',
  ]);
  const head = ['workload', 'median', 'min–max', 'target', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
