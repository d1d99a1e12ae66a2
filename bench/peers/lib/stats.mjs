// Summary statistics and the comparison table (pure functions, no dependencies).

export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { median: round(median), min: round(sorted[0]), max: round(sorted[n - 1]) };
}

export function round(x) {
  if (!Number.isFinite(x)) return x;
  if (Math.abs(x) >= 100) return Math.round(x);
  if (Math.abs(x) >= 10) return Math.round(x * 10) / 10;
  return Math.round(x * 100) / 100;
}

/** Tasker's advantage over a peer: > 1 always means Tasker is ahead. */
export function ratio(tasker, peer, better) {
  if (!isNum(tasker?.median) || !isNum(peer?.median) || tasker.median === 0 || peer.median === 0) return undefined;
  return better === 'higher' ? tasker.median / peer.median : peer.median / tasker.median;
}

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);

function cell(result) {
  if (!result) return '-';
  if (result.na) return 'n/a';
  if (result.error && !isNum(result.median)) return /timeout/i.test(result.error) ? 'timeout' : 'error';
  const txt = `${round(result.median)} (${round(result.min)}–${round(result.max)})`;
  return result.error ? `${txt}*` : txt;
}

/**
 * One row per workload; a column per system with median (min–max); for every peer also
 * Tasker's ratio to it (×N, > 1 = Tasker ahead). `docs` are documents of the output contract;
 * the first system named "tasker", if any, is the reference.
 */
export function comparisonTable(docs, known = []) {
  const systems = docs.flatMap((d) => d.systems);
  const tasker = systems.find((s) => s.system === 'tasker');
  const peers = systems.filter((s) => s !== tasker);
  const workloads = [];
  for (const s of systems) for (const r of s.results) if (!workloads.includes(r.workload)) workloads.push(r.workload);
  const order = (w) => {
    const i = known.findIndex((k) => k.name === w);
    return i < 0 ? known.length : i;
  };
  workloads.sort((a, b) => order(a) - order(b));
  const meta = (w) => systems.flatMap((s) => s.results).find((r) => r.workload === w && r.metric) ?? known.find((k) => k.name === w) ?? {};

  const header = ['workload', 'metric'];
  if (tasker) header.push('tasker');
  for (const p of peers) header.push(p.system, ...(tasker ? ['tasker ×'] : []));
  const rows = [header];
  for (const w of workloads) {
    const m = meta(w);
    const row = [w, m.metric ? `${m.metric} (${m.better === 'higher' ? 'higher' : 'lower'} better)` : ''];
    const t = tasker?.results.find((r) => r.workload === w);
    if (tasker) row.push(cell(t));
    for (const p of peers) {
      const r = p.results.find((x) => x.workload === w);
      row.push(cell(r));
      if (tasker) {
        const x = ratio(t, r, m.better);
        row.push(x === undefined ? '-' : `×${round(x)}`);
      }
    }
    rows.push(row);
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  const out = [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  if (tasker) out.push('', 'tasker × = Tasker\'s ratio to the peer (higher-better: tasker/peer; lower-better: peer/tasker): > 1 means Tasker is ahead.');
  out.push('median (min–max) over the runs; * = some runs failed or timed out; n/a = the peer cannot express the workload.');
  for (const d of docs) {
    // 0.1 and 10 both mean a tenth (bench/main.ts divides by its --scale, this bench multiplies)
    const f = d.scale > 1 ? 1 / d.scale : d.scale;
    if (f && f !== 1) out.push(`${d.systems.map((s) => s.system).join(', ')}: jobs-N backlogs at ${round(f)} of their size.`);
  }
  return out.join('\n');
}
