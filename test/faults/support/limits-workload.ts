/**
 * The fault workload with flow-control limits (SPEC §9.2, §9.3): the same shapes and values as
 * workload.ts, some of their steps and task types limited, the keys in each task's context. The
 * run's checker proves everything it proves for the plain workload; `checkLimits` adds, from the
 * recorded transitions (the database's microsecond times), that no limit was ever exceeded: an
 * attempt holds its place from its claim to its outcome (a killed worker's until its lease lapsed),
 * a task its type's place while it or one of its steps is in progress.
 */
import { Client } from 'pg';
import {
  concurrencyViolations,
  describeViolations,
  keyValue,
  maxRunning,
  rateViolations,
  readTransitions,
  stepHolds,
  stepRuns,
  stepStarts,
  taskHolds,
  taskRuns,
  tightestSpan,
} from '../../support/limits-checker';
import { WORKLOAD_NAMESPACE, WorkloadOptions } from './workload';

interface ConcurrencyLimit {
  key?: string;
  limit: number;
}
interface RateLimit {
  bucket: string;
  limit: number;
  periodMs: number;
  key?: string;
}

/** Step concurrency limits by `<shape>.<step>`. */
export const STEP_CONCURRENCY: Record<string, ConcurrencyLimit> = {
  'linear.step_2': { key: 'region', limit: 2 },
  'linear.step_3': { limit: 3 },
  // A nested path, missing from some contexts: those share the key "".
  'tree.leaf_d': { key: 'site.zone', limit: 2 },
  'tree.leaf_g': { key: 'site.zone', limit: 1 },
};

/** Rate limits by `<shape>.<step>`; two step types draw from the stripe bucket. */
export const STEP_RATE: Record<string, RateLimit> = {
  'diamond.branch_b': { bucket: 'stripe', limit: 2, periodMs: 400, key: 'merchant' },
  'diamond.branch_c': { bucket: 'stripe', limit: 2, periodMs: 400, key: 'merchant' },
  'order_fulfillment.process_payment': { bucket: 'bank', limit: 2, periodMs: 500 },
};

/** Task concurrency limits by shape. */
export const TASK_CONCURRENCY: Record<string, ConcurrencyLimit> = {
  order_processing: { key: 'account', limit: 1 },
  mixed_dag: { limit: 4 },
};

/** The workload options that give the worker processes these limits. */
export function limitsWorkload(): Pick<WorkloadOptions, 'stepOptions' | 'taskOptions'> {
  const stepOptions: Record<string, Record<string, unknown>> = {};
  for (const [k, c] of Object.entries(STEP_CONCURRENCY)) stepOptions[k] = { ...stepOptions[k], concurrency: c };
  for (const [k, r] of Object.entries(STEP_RATE)) stepOptions[k] = { ...stepOptions[k], rateLimit: r };
  const taskOptions: Record<string, Record<string, unknown>> = {};
  for (const [k, c] of Object.entries(TASK_CONCURRENCY)) taskOptions[k] = { concurrency: c };
  return { stepOptions, taskOptions };
}

/**
 * The keys of task number i (its shape is SHAPES[i % 6]): three regions, two merchants, three
 * accounts, zones for most; few keys, so that the limits bind when a wave of tasks arrives.
 */
export function limitsContext(i: number): Record<string, unknown> {
  const n = Math.floor(i / 6); // the how-manieth task of its shape
  return {
    region: `r${n % 3}`,
    merchant: `m${n % 2}`,
    account: `a${n % 3}`,
    ...(n % 4 === 0 ? {} : { site: { zone: `z${n % 2}` } }),
  };
}

/** Every excess of the limits in a run's history, and the figures: the most running at once, the tightest rate windows. */
export async function checkLimits(baseUrl: string, schema: string): Promise<{ violations: string[]; figures: Record<string, unknown> }> {
  const c = new Client({ connectionString: baseUrl });
  await c.connect();
  try {
    const { rows: tasks } = await c.query<{ id: string; name: string; context: Record<string, unknown> }>(
      `SELECT id::text, name, context FROM "${schema}".tasks WHERE namespace = $1`,
      [WORKLOAD_NAMESPACE],
    );
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const transitions = (await readTransitions(c, schema)).filter((t) => byId.has(t.taskId));
    const runs = stepRuns(transitions);

    const stepLimit = new Map<string, number>();
    const sHolds = stepHolds(runs, (r) => {
      const task = byId.get(r.taskId)!;
      const lim = STEP_CONCURRENCY[`${task.name}.${r.step}`];
      if (!lim) return undefined;
      const group = `step ${task.name}.${r.step} key "${keyValue(task.context, lim.key)}"`;
      stepLimit.set(group, lim.limit);
      return group;
    });
    const rate = new Map<string, RateLimit>();
    const starts = stepStarts(runs, (r) => {
      const task = byId.get(r.taskId)!;
      const lim = STEP_RATE[`${task.name}.${r.step}`];
      if (!lim) return undefined;
      const group = `bucket ${lim.bucket} key "${keyValue(task.context, lim.key)}"`;
      rate.set(group, lim);
      return group;
    });
    const taskLimit = new Map<string, number>();
    const tHolds = taskHolds(taskRuns(transitions), (id) => {
      const task = byId.get(id)!;
      const lim = TASK_CONCURRENCY[task.name];
      if (!lim) return undefined;
      const group = `task ${task.name} key "${keyValue(task.context, lim.key)}"`;
      taskLimit.set(group, lim.limit);
      return group;
    });

    const overLimit = [...concurrencyViolations(sHolds, (g) => stepLimit.get(g)!), ...concurrencyViolations(tHolds, (g) => taskLimit.get(g)!)];
    const overRate = rateViolations(
      starts,
      (g) => rate.get(g)!.limit,
      (g) => rate.get(g)!.periodMs,
    );
    const most = Object.fromEntries([...maxRunning(sHolds), ...maxRunning(tHolds)].sort());
    const tightest = Object.fromEntries(
      [...tightestSpan(starts, (g) => rate.get(g)!.limit)].sort().map(([g, ms]) => [g, `${ms.toFixed(1)} ms of ${rate.get(g)!.periodMs}`]),
    );
    // For the diagnosis of a rate excess: the same windows by the start time the engine keeps on the
    // step row (workflow_steps.started_at, its latest attempt's), for the attempts that were the latest.
    const { rows: latest } = await c.query<{ task_id: string; name: string; attempts: number; at: number }>(
      `SELECT task_id::text, name, attempts, (extract(epoch FROM started_at) * 1000)::float8 AS at FROM "${schema}".workflow_steps WHERE started_at IS NOT NULL`,
    );
    const startedAt = new Map(latest.map((r) => [`task ${r.task_id} ${r.name}#${r.attempts}`, r.at]));
    const byRow = starts.filter((x) => startedAt.has(x.id)).map((x) => ({ ...x, at: startedAt.get(x.id)! }));
    const tightestByRow = Object.fromEntries(
      [...tightestSpan(byRow, (g) => rate.get(g)!.limit)].sort().map(([g, ms]) => [g, `${ms.toFixed(1)} ms of ${rate.get(g)!.periodMs}`]),
    );
    return {
      violations: describeViolations({ concurrency: overLimit, rate: overRate }, 50),
      figures: {
        limitedAttempts: sHolds.length,
        limitedTasks: tHolds.length,
        rateStarts: starts.length,
        mostRunning: most,
        tightestWindows: tightest,
        tightestWindowsByStepStartedAt: tightestByRow,
      },
    };
  } finally {
    await c.end();
  }
}
