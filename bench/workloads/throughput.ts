/**
 * Draining a backlog: the tasks are created first (not timed), then worker processes start and
 * the clock runs until the database shows every task complete.
 */
import { TaskRequest } from '../../libs/tasker/src';
import { cpuMeter } from '../support/cpu';
import { truncateWork, waitUntil } from '../support/database';
import { summarize } from '../support/stats';
import type { ClaimCounts, FlowCounts, FromWorker } from '../support/worker-process';
import { spawnWorkers, WorkerHandle } from '../support/workers';
import { NS } from '../workflows';
import { BenchContext, sized, Workload } from './context';

/** Creates `n` tasks of `name`, 1,000 per call; `request(i)` adds to the i-th (context, priority…). */
export async function backlog(ctx: BenchContext, name: string, n: number, request?: (i: number) => Partial<TaskRequest>): Promise<void> {
  for (let i = 0; i < n; i += 1_000) {
    const batch: TaskRequest[] = Array.from({ length: Math.min(1_000, n - i) }, (_, j) => ({ namespace: NS, name, version: '1', ...request?.(i + j) }));
    await ctx.control.tasker.createTasks(batch);
  }
}

export interface DrainFigures {
  seconds: number;
  steps: number;
  /** Step attempts each process ran ("step:attempt"), for the no-duplicate check. */
  ran: string[][];
  /** Each process's claim queries, empty claims, NOTIFYs heard and pool connections during the drain. */
  counts: ClaimCounts[];
  /** Each process's flow figures (most steps of one key at once; step starts when asked for). */
  flow: FlowCounts[];
  /** CPU ms the worker processes and the database's backends used meanwhile (undefined: not measurable here). */
  cpuMs?: number;
  /** The same, split between the worker processes and the database's backends. */
  cpu?: { processes: number; database: number };
}

/** Creates `n` tasks of `name`, starts `processes` workers on them and times the drain. */
export async function drain(
  ctx: BenchContext,
  opts: {
    name: string;
    types: string;
    n: number;
    processes: number;
    concurrency: number;
    request?: (i: number) => Partial<TaskRequest>;
    holdMs?: number;
    starts?: boolean;
    prefetch?: number;
  },
): Promise<DrainFigures> {
  await truncateWork(ctx.pg);
  await backlog(ctx, opts.name, opts.n, opts.request);
  const { rows } = await ctx.pg.query('SELECT count(*)::int AS n FROM tasker.workflow_steps');
  const workers = await spawnWorkers(opts.processes, {
    types: opts.types,
    concurrency: opts.concurrency,
    databaseUrl: ctx.databaseUrl,
    holdMs: opts.holdMs,
    starts: opts.starts,
    prefetch: opts.prefetch,
  });
  try {
    const meter = await cpuMeter(ctx.pg, workers.map((w) => w.child.pid!));
    const handlersRan = allRan(workers, rows[0].n);
    const began = performance.now();
    for (const w of workers) w.send({ type: 'go' });
    // No failures in these workloads: done when no task is left pending or running. As the peers'
    // drivers do, the database is polled often only once every step's handler has run; until then
    // every half second, in case a step ran more than once (its count would overshoot).
    const finished = "SELECT NOT EXISTS (SELECT 1 FROM tasker.tasks WHERE state IN ('pending', 'in_progress'))";
    let ran = false;
    const slow = waitUntil(ctx.pg, finished, [], 600_000, { intervalMs: 500, stopped: () => ran });
    const first = await Promise.race([handlersRan.then(() => Number.NaN), slow]);
    ran = true;
    const ended = Number.isNaN(first) ? await waitUntil(ctx.pg, finished, [], 600_000, { intervalMs: 2 }) : first;
    const cpu = await meter?.readSplit();
    await slow;
    const cpuMs = cpu && cpu.processes + cpu.database;
    const { rows: done } = await ctx.pg.query("SELECT count(*)::int AS n FROM tasker.tasks WHERE state = 'complete'");
    if (done[0].n !== opts.n) throw new Error(`${opts.name}: ${done[0].n} of ${opts.n} tasks complete when none was left to run`);
    const reports = await report(workers);
    return { seconds: (ended - began) / 1000, steps: rows[0].n, ran: reports.map((r) => r.ran), counts: reports.map((r) => r.claims), flow: reports.map((r) => r.flow), cpuMs, cpu };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** Resolves once the processes together report `steps` handler calls (FromWorker 'ran'). */
function allRan(workers: WorkerHandle[], steps: number): Promise<void> {
  const counts = workers.map(() => 0);
  return new Promise((resolve) => {
    workers.forEach((w, i) =>
      w.child.on('message', (m: FromWorker) => {
        if (m.type !== 'ran') return;
        counts[i] = m.n;
        if (counts.reduce((a, b) => a + b, 0) >= steps) resolve();
      }),
    );
  });
}

async function report(workers: WorkerHandle[]): Promise<{ ran: string[]; claims: ClaimCounts; flow: FlowCounts }[]> {
  return Promise.all(
    workers.map(async (w) => {
      const r = w.next('report');
      w.send({ type: 'report' });
      return r;
    }),
  );
}

/**
 * The peers drain plain jobs with their batching on (graphile-worker's local queue of 100,
 * pg-boss's batches with two local workers: bench/peers): `jobs-N` is Tasker with its own,
 * `worker.prefetch` 100 beside concurrency 50. `jobs-N-prefetch-0` is the default (no prefetch).
 */
export const JOBS_PREFETCH = 100;

export const jobsWorkload = (n: number, target?: number): Workload => ({
  suites: ['throughput', 'peers'],
  name: `jobs-${n}`,
  async run(ctx) {
    const size = sized(ctx, n);
    const rows = [];
    for (const prefetch of [JOBS_PREFETCH, 0]) {
      const row = prefetch === JOBS_PREFETCH ? `jobs-${n}` : `jobs-${n}-prefetch-0`;
      const runs: number[] = [];
      const extras: Record<string, number>[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        const f = await drain(ctx, { name: 'job', types: 'job', n: size, processes: 1, concurrency: 50, prefetch });
        runs.push(size / f.seconds);
        // CPU per job, as bench/peers measures it for the peers: the worker process, and the database's backends.
        const cpu = f.cpu && { workerUs: Math.round((f.cpu.processes * 1000) / size), databaseUs: Math.round((f.cpu.database * 1000) / size) };
        if (cpu) extras.push(cpu);
        const perJob = cpu && ` (CPU per job: worker ${cpu.workerUs} µs, database ${cpu.databaseUs} µs)`;
        ctx.log(`${row} run ${i + 1}: ${Math.round(size / f.seconds)} jobs/s${perJob ?? ''}`);
      }
      const result = summarize(row, 'jobs/s', 'higher', runs, prefetch === JOBS_PREFETCH ? target : undefined, `${size} single-step tasks, 1 worker process, concurrency 50, prefetch ${prefetch}`);
      rows.push(extras.length === runs.length ? { ...result, extras } : result);
    }
    return rows;
  },
});

export const dagWorkload: Workload = {
  suites: ['throughput'],
  name: 'dag10-1000',
  async run(ctx) {
    const size = sized(ctx, 1_000);
    const runs: number[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      const f = await drain(ctx, { name: 'dag_10', types: 'dag10', n: size, processes: 1, concurrency: 50 });
      runs.push(f.steps / f.seconds);
      ctx.log(`dag10-1000 run ${i + 1}: ${Math.round(f.steps / f.seconds)} steps/s`);
    }
    return [summarize('dag10-1000', 'steps/s', 'higher', runs, 5_000, `${size} ten-step DAG tasks, 1 worker process, concurrency 50`)];
  },
};

/**
 * 1, 2 and 4 worker processes on one backlog. Every step must have run exactly once: no attempt
 * twice (at once or not), none lost.
 */
export const scaleOutWorkload: Workload = {
  suites: ['scale'],
  name: 'scale-out',
  async run(ctx) {
    const size = sized(ctx, 2_000);
    const results = [];
    for (const processes of [1, 2, 4]) {
      const runs: number[] = [];
      const perStep = { empty: [] as number[], claims: [] as number[], notifies: [] as number[], connections: [] as number[], cpu: [] as number[] };
      for (let i = 0; i < ctx.runs; i++) {
        const f = await drain(ctx, { name: 'dag_10', types: 'dag10', n: size, processes, concurrency: 25 });
        const all = f.ran.flat();
        const distinctSteps = new Set(all.map((r) => r.split(':')[0])).size;
        if (all.length !== f.steps || distinctSteps !== f.steps) {
          throw new Error(`scale-out with ${processes} processes: ${all.length} attempts ran for ${f.steps} steps (${distinctSteps} distinct)`);
        }
        runs.push(f.steps / f.seconds);
        const sum = (k: keyof ClaimCounts) => f.counts.reduce((a, c) => a + c[k], 0);
        perStep.empty.push((1_000 * sum('empty')) / f.steps);
        perStep.claims.push((1_000 * sum('claims')) / f.steps);
        perStep.notifies.push((1_000 * sum('notifies')) / f.steps);
        perStep.connections.push(sum('connections'));
        if (f.cpuMs !== undefined) perStep.cpu.push((1_000 * f.cpuMs) / f.steps);
        ctx.log(
          `scale-out ${processes}p run ${i + 1}: ${Math.round(f.steps / f.seconds)} steps/s, ${all.length} attempts for ${f.steps} steps; ` +
            `claim queries ${sum('claims')} (empty ${sum('empty')}), NOTIFYs heard ${sum('notifies')}, pool connections ${sum('connections')}, ` +
            `CPU ${f.cpuMs === undefined ? '?' : Math.round(f.cpuMs)} ms ` +
            `(per process: ${f.counts.map((c) => `${c.claims}/${c.empty}/${c.notifies}/${c.connections}`).join(' ')})`,
        );
      }
      const note = `${size} dag10 tasks, ${processes} process(es) × concurrency 25`;
      results.push(
        summarize(`scale-out-${processes}p`, 'steps/s', 'higher', runs, undefined, `${note}; every step ran once`),
        summarize(`scale-out-${processes}p-empty-claims`, 'per 1k steps', 'lower', perStep.empty, undefined, 'claim queries of their own that found nothing, all processes'),
        summarize(`scale-out-${processes}p-claims`, 'per 1k steps', 'lower', perStep.claims, undefined, 'claim queries, alone or riding with completions'),
        summarize(`scale-out-${processes}p-notifies`, 'per 1k steps', 'lower', perStep.notifies, undefined, 'NOTIFYs heard, all processes'),
        summarize(`scale-out-${processes}p-connections`, 'conns', 'lower', perStep.connections, undefined, "Tasker pool connections open at the end, all processes (plus one LISTEN each)"),
      );
      if (perStep.cpu.length) {
        results.push(summarize(`scale-out-${processes}p-cpu`, 'ms per 1k steps', 'lower', perStep.cpu, undefined, "CPU of the worker processes and the database's backends"));
      }
    }
    return results;
  },
};
