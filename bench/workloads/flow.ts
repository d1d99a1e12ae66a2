/**
 * Flow control (SPEC §9) against the same work without it: what limits and priorities cost when
 * used. `claim-limited`: the claim's latency on a backlog whose every step has a concurrency key
 * (or a rate limit) over 1,000 key values, beside the same backlog without; `dag10-limited`: DAG
 * throughput on a worker process with and without step concurrency keys; `jobs-priority`: single-
 * step jobs with random priorities and without. Each limited figure is also given as a ratio to its
 * unlimited twin, measured in the same run.
 */
import type { Client } from 'pg';
import { TaskRequest } from '../../libs/tasker/src';
import { BenchApp, benchOptions, startBenchApp } from '../support/app';
import { connect, createBenchDatabase, truncateWork } from '../support/database';
import { median, percentile, Result, summarize } from '../support/stats';
import { dag10, dag10Keyed, dag10Rated } from '../workflows';
import { BenchContext, sized, Workload } from './context';
import { backlog, drain } from './throughput';

/** Distinct values of the context's `k` (the key of every limit). */
const KEYS = 1_000;
/** Tasks of the claim's backlog (two per key value), and the attempts left running before the samples. */
const CLAIM_TASKS = 2_000;
const IN_FLIGHT = 500;
const SAMPLES = 100;
/** What a worker asking for 10 steps passes: one in ten for aged steps, aged after the default 10 s. */
const CLAIM = 'SELECT * FROM tasker.claim_steps($1, $2::int[], 10, 60000, 1, 10000)';

const keyed = (i: number): Partial<TaskRequest> => ({ context: { k: `k${i % KEYS}` } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function typeId(pg: Client, name: string): Promise<number> {
  const { rows } = await pg.query('SELECT id FROM tasker.named_tasks WHERE name = $1', [name]);
  return rows[0].id;
}

/**
 * Claims (committed) up to `n` steps of the type, `batch` at a time, completing them when `complete`;
 * a claim that finds only rate-limited steps waits for the time its answer names.
 */
async function claimCommitted(pg: Client, type: number, n: number, batch: number, complete: boolean): Promise<number> {
  let claimed = 0;
  let empty = 0;
  while (claimed < n) {
    const { rows } = await pg.query(
      'SELECT (c.claim).step_id, (c.claim).lease_token, c.wake_at FROM tasker.claim_steps($1, $2::int[], $3, 60000, 0, 10000) c',
      ['bench', [type], Math.min(batch, n - claimed)],
    );
    const claims = rows.filter((r) => r.step_id !== null);
    if (claims.length === 0) {
      const wake = rows.find((r) => r.wake_at)?.wake_at as Date | undefined;
      if (!wake || ++empty > 50) throw new Error(`claim-limited: nothing to claim after ${claimed} steps`);
      await sleep(Math.max(1, Math.min(1_000, wake.getTime() - Date.now())));
      continue;
    }
    empty = 0;
    claimed += claims.length;
    if (complete) {
      await pg.query('SELECT count(*) FROM tasker.complete_steps($1::bigint[], $2::uuid[], $3::jsonb[])', [
        claims.map((r) => r.step_id),
        claims.map((r) => r.lease_token),
        claims.map(() => '{}'),
      ]);
    }
  }
  return claimed;
}

async function heldOrDelayed(pg: Client): Promise<number> {
  const { rows } = await pg.query(
    `SELECT (SELECT count(*) FROM tasker.workflow_steps WHERE held_key IS NOT NULL)
          + (SELECT count(*) FROM tasker.workflow_steps WHERE state IN ('pending', 'error', 'waiting') AND NOT exhausted
                AND parents_done = parents_total AND available_at > now() AND available_at < 'infinity')::int AS n`,
  );
  return Number(rows[0].n);
}

/**
 * The claim's backlog: 2,000 tasks of `name` (k over 1,000 values), run half way by committed
 * claims of 500 and completions, then 500 attempts claimed and left running (their slots taken).
 */
async function claimBacklog(ctx: BenchContext, name: string): Promise<number> {
  await truncateWork(ctx.pg);
  const type = await typeId(ctx.pg, name);
  const tasks = sized(ctx, CLAIM_TASKS);
  await backlog(ctx, name, tasks, keyed);
  await claimCommitted(ctx.pg, type, (tasks * 10) / 2, 500, true);
  await claimCommitted(ctx.pg, type, sized(ctx, IN_FLIGHT), 500, false);
  await ctx.pg.query('VACUUM ANALYZE');
  return type;
}

/** One claim of 10, rolled back (every sample sees the same state): its time, and what it took and held back or put off. */
async function claimOnce(pg: Client, type: number, count: boolean): Promise<{ ms: number; claimed: number; held: number }> {
  const before = count ? await heldOrDelayed(pg) : 0;
  await pg.query('BEGIN');
  try {
    const began = performance.now();
    const { rows } = await pg.query(CLAIM, ['bench', [type]]);
    const ms = performance.now() - began;
    const held = count ? (await heldOrDelayed(pg)) - before : 0;
    return { ms, claimed: rows.filter((r) => r.claim !== null).length, held };
  } finally {
    await pg.query('ROLLBACK');
  }
}

export const claimLimitedWorkload: Workload = {
  suites: ['flow'],
  name: 'claim-limited',
  async run(ctx) {
    const variants = [
      { name: 'dag_10', row: 'claim-unlimited', what: 'no limits' },
      { name: 'dag_10_keyed', row: 'claim-limited', what: 'a concurrency limit of 1 per key on every step' },
      { name: 'dag_10_rated', row: 'claim-rate-limited', what: 'a rate limit of 10/s per key on every step' },
    ];
    // Each backlog in a database of its own, so that the samples of the three can alternate: the
    // speed of a shared machine drifts within seconds, and alternating puts that drift on all three.
    const dbs = await Promise.all(variants.slice(1).map(() => createBenchDatabase(ctx.databaseUrl)));
    const opened: { pg: Client; control: BenchApp }[] = [];
    try {
      for (const db of dbs) {
        const pg = await connect(db.url);
        opened.push({ pg, control: await startBenchApp(benchOptions(db.url, { enabled: false }), [dag10(), dag10Keyed(), dag10Rated()]) });
      }
      const places = [{ pg: ctx.pg, control: ctx.control }, ...opened];
      const types: number[] = [];
      for (const [i, v] of variants.entries()) types.push(await claimBacklog({ ...ctx, ...places[i] }, v.name));
      const p50: number[][] = variants.map(() => []);
      for (let r = 0; r < ctx.runs; r++) {
        const times: number[][] = variants.map(() => []);
        for (let s = 0; s < SAMPLES + 5; s++) {
          for (const i of variants.keys()) {
            const c = await claimOnce(places[i].pg, types[i], s === 5 && r === 0);
            if (s >= 5) times[i].push(c.ms);
            if (s === 5 && r === 0) ctx.log(`${variants[i].row}: a claim takes ${c.claimed} steps and holds back or puts off ${c.held}`);
          }
        }
        for (const i of variants.keys()) p50[i].push(percentile(times[i], 50));
        ctx.log(`run ${r + 1}: p50 ${variants.map((v, i) => `${v.row} ${p50[i][r].toFixed(3)} ms`).join(', ')}`);
      }
      const note = (v: (typeof variants)[number]) =>
        `claim_steps (10) on ${sized(ctx, CLAIM_TASKS)} dag_10 tasks, k over ${Math.min(KEYS, sized(ctx, CLAIM_TASKS))} values, half done, ${sized(ctx, IN_FLIGHT)} running: ${v.what}`;
      const results: Result[] = variants.map((v, i) => summarize(v.row, 'ms p50', 'lower', p50[i], undefined, note(v)));
      for (const i of [1, 2]) {
        const ratios = p50[i].map((t, r) => t / p50[0][r]);
        results.push(summarize(`${variants[i].row}-ratio`, '× unlimited', 'lower', ratios, 1.2, `${variants[i].row} / claim-unlimited, run by run (samples alternating)`));
      }
      return results;
    } finally {
      for (const o of opened) {
        await o.control.close();
        await o.pg.end();
      }
      for (const db of dbs) await db.drop();
    }
  },
};

/** One side of a paired throughput workload: its row, its task type (and worker spec), what each task gets. */
interface Twin {
  row: string;
  name: string;
  types: string;
  request: (i: number) => Partial<TaskRequest>;
  note: string;
}

/**
 * Drains of the unlimited twin and the limited one in turn, run by run, on one worker process
 * (concurrency 50, as `jobs-*`): rows for both, their ratio, and the ratio of the CPU they used.
 */
async function paired(ctx: BenchContext, opts: { twins: [Twin, Twin]; n: number; metric: string; perStep: boolean; versus: string }): Promise<Result[]> {
  const rows = opts.twins.map((t) => t.row);
  const figures: [number[], number[]] = [[], []];
  const cpu: [number[], number[]] = [[], []];
  for (let r = 0; r < ctx.runs; r++) {
    for (const i of [0, 1]) {
      const t = opts.twins[i];
      const f = await drain(ctx, { name: t.name, types: t.types, n: opts.n, processes: 1, concurrency: 50, request: t.request });
      const units = opts.perStep ? f.steps : opts.n;
      figures[i].push(units / f.seconds);
      if (f.cpuMs !== undefined) cpu[i].push(f.cpuMs / units);
      const used = f.cpuMs === undefined ? '' : `, ${((f.cpuMs / units) * 1000).toFixed(0)} µs CPU each (worker + database)`;
      ctx.log(`${rows[i]} run ${r + 1}: ${Math.round(units / f.seconds)} ${opts.metric}${used}`);
    }
  }
  const ratios = figures[0].map((u, r) => u / figures[1][r]);
  ctx.log(`${rows[1]}: ${median(ratios).toFixed(2)} × slower than ${rows[0]}`);
  const results = [
    summarize(rows[0], opts.metric, 'higher', figures[0], undefined, opts.twins[0].note),
    summarize(rows[1], opts.metric, 'higher', figures[1], undefined, opts.twins[1].note),
    summarize(`${rows[1]}-ratio`, '× slower', 'lower', ratios, 1.2, `${rows[0]} / ${rows[1]}, run by run`),
  ];
  if (cpu[1].length === ctx.runs && cpu[0].length === ctx.runs) {
    const unit = opts.perStep ? 'step' : 'job';
    results.push(
      summarize(
        `${rows[1]}-cpu-ratio`,
        `× ${opts.versus}`,
        'lower',
        cpu[1].map((c, r) => c / cpu[0][r]),
        undefined,
        `CPU per ${unit} (worker process + database backends) of ${rows[1]} / ${rows[0]}, run by run: what the clock cannot show on a shared machine`,
      ),
    );
  }
  return results;
}

export const dagLimitedWorkload: Workload = {
  suites: ['flow'],
  name: 'dag10-limited',
  async run(ctx) {
    const n = sized(ctx, 1_000);
    const keys = Math.min(KEYS, n);
    return paired(ctx, {
      n,
      metric: 'steps/s',
      perStep: true,
      versus: 'unlimited',
      twins: [
        { row: 'dag10-unlimited', name: 'dag_10', types: 'dag10', request: keyed, note: `${n} dag_10 tasks (k over ${keys} values), 1 worker process, concurrency 50` },
        {
          row: 'dag10-limited',
          name: 'dag_10_keyed',
          types: 'dag10Keyed',
          request: keyed,
          note: `the same, every step with a concurrency limit of 1 per k (${keys * 10} slots, none ever full)`,
        },
      ],
    });
  },
};

/** A fixed pseudo-random sequence (the same priorities every run). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

export const jobsPriorityWorkload: Workload = {
  suites: ['flow'],
  name: 'jobs-priority',
  async run(ctx) {
    const n = sized(ctx, 10_000);
    const priorities = Array.from({ length: n }, ((r) => () => Math.floor(r() * 201) - 100)(lcg(42)));
    return paired(ctx, {
      n,
      metric: 'jobs/s',
      perStep: false,
      versus: 'none',
      twins: [
        { row: 'jobs-priority-none', name: 'job', types: 'job', request: () => ({}), note: `${n} single-step tasks, no priority, 1 worker process, concurrency 50` },
        { row: 'jobs-priority', name: 'job', types: 'job', request: (i) => ({ priority: priorities[i] }), note: 'the same, each with a random priority in −100…100' },
      ],
    });
  },
};
