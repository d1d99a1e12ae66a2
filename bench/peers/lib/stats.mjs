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

/**
 * Documents of several rounds (the same systems and workloads, one run each, or a few) as one: per
 * system and workload, one value per round (that round's median), in round order, summarized, and
 * every round's extras. A round where a workload failed contributes nothing to it.
 */
export function mergeRounds(docs) {
  if (docs.length === 1) return docs[0];
  const out = { ...docs[0], rounds: docs.length, systems: [] };
  for (const s of docs[0].systems) {
    const entry = { ...s, results: [] };
    for (const r of s.results) {
      const perRound = docs.map((d) => d.systems.find((x) => x.system === s.system)?.results.find((x) => x.workload === r.workload));
      if (r.na) {
        entry.results.push(r);
        continue;
      }
      const values = perRound.filter((x) => isNum(x?.median)).map((x) => x.median);
      const merged = { workload: r.workload, metric: r.metric, better: r.better, ...(r.note ? { note: r.note } : {}) };
      if (values.length) Object.assign(merged, summarize(values), { runs: perRound.map((x) => (isNum(x?.median) ? x.median : null)) });
      else merged.runs = [];
      const extras = perRound.flatMap((x) => x?.extras ?? []);
      if (extras.length) merged.extras = extras;
      const errors = perRound.filter((x) => x?.error).map((x) => x.error);
      if (errors.length) merged.error = errors.join('; ');
      entry.results.push(merged);
    }
    out.systems.push(entry);
  }
  return out;
}

/**
 * Tasker against each peer round by round (`rounds`: per round, the documents of that round):
 * the ratio of the two medians measured minutes apart, so a machine that speeds up or slows down
 * over the run moves both sides of a ratio, not one. Median (min–max) of the rounds' ratios, and
 * in how many rounds Tasker was ahead.
 */
export function pairedTable(rounds, known = []) {
  if (rounds.length === 0) return '';
  const rows = [['workload', 'peer', 'tasker × per round', 'median (min–max)', 'Tasker ahead']];
  const first = rounds[0].flatMap((d) => d.systems);
  const tasker = first.find((s) => s.system === 'tasker');
  if (!tasker) return '';
  const order = (w) => {
    const i = known.findIndex((k) => k.name === w);
    return i < 0 ? known.length : i;
  };
  const workloads = tasker.results.map((r) => r.workload).sort((a, b) => order(a) - order(b));
  for (const w of workloads) {
    for (const peer of first.filter((s) => s !== tasker)) {
      const ratios = rounds.map((docs) => {
        const systems = docs.flatMap((d) => d.systems);
        const t = systems.find((s) => s.system === 'tasker')?.results.find((r) => r.workload === w);
        const p = systems.find((s) => s.system === peer.system)?.results.find((r) => r.workload === w);
        return t && p ? ratio(t, p, t.better ?? p.better) : undefined;
      });
      const measured = ratios.filter((x) => x !== undefined);
      if (measured.length === 0) continue;
      const s = summarize(measured);
      rows.push([w, peer.system, ratios.map((x) => (x === undefined ? '-' : round(x))).join(' '), `×${s.median} (${s.min}–${s.max})`,
        `${measured.filter((x) => x > 1).length} of ${measured.length}`]);
    }
  }
  if (rows.length === 1) return '';
  return [`Round by round (${rounds.length} rounds: Tasker, then each peer, then the next round):`, formatRows(rows)].join('\n');
}

/**
 * CPU per job of the drains (the runs' extras workerUs and databaseUs, as both benches measure
 * them): per system the medians, their sum, and for every peer the peer's total over Tasker's
 * (> 1: Tasker uses less CPU for the same jobs). The clock of a drain moves with the machine;
 * the CPU it took moves less, and says what each system would do on a machine with more cores.
 */
export function cpuTable(docs, known = []) {
  const systems = docs.flatMap((d) => d.systems);
  const tasker = systems.find((s) => s.system === 'tasker');
  const rows = [['workload', 'system', 'worker µs/job', 'database µs/job', 'total', 'peer / tasker']];
  const workloads = known.map((k) => k.name).filter((w) => systems.some((s) => s.results.some((r) => r.workload === w && r.extras?.some((e) => isNum(e.databaseUs)))));
  for (const w of workloads) {
    const totalOf = (s) => {
      const e = s.results.find((r) => r.workload === w)?.extras?.filter((x) => isNum(x.workerUs) && isNum(x.databaseUs));
      if (!e?.length) return undefined;
      const worker = summarize(e.map((x) => x.workerUs)).median;
      const database = summarize(e.map((x) => x.databaseUs)).median;
      return { worker, database, total: summarize(e.map((x) => x.workerUs + x.databaseUs)).median };
    };
    const t = tasker && totalOf(tasker);
    for (const s of systems) {
      const c = totalOf(s);
      if (!c) continue;
      rows.push([w, s.system, c.worker, c.database, c.total, s !== tasker && t ? `×${round(c.total / t.total)}` : '']);
    }
  }
  if (rows.length === 1) return '';
  return ['CPU per job of the drains (median of the runs; the worker process and the database\'s backends):', formatRows(rows)].join('\n');
}

function formatRows(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
