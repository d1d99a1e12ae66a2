/**
 * The engine's hot queries measured alone, from a client on the same machine: `claim_steps`
 * (what a worker runs to get work) and `step_readiness` (why each step of a task is or is not
 * ready), on one layered task of 1,000 and 10,000 steps, half done. Then the same with a million
 * finished steps of history in the tables.
 */
import type { Client } from 'pg';
import { truncateWork } from '../support/database';
import { percentile, Result, summarize } from '../support/stats';
import { NS } from '../workflows';
import { BenchContext, sized, Workload } from './context';

const SAMPLES = 40;

async function typeId(pg: Client, name: string): Promise<number> {
  const { rows } = await pg.query('SELECT id FROM tasker.named_tasks WHERE name = $1', [name]);
  return rows[0].id;
}

/** Runs the engine's own claim and complete functions until `done` steps of the task are complete. */
async function advance(pg: Client, type: number, done: number): Promise<void> {
  for (;;) {
    const { rows } = await pg.query('SELECT (c.claim).step_id, (c.claim).lease_token FROM tasker.claim_steps($1, $2::int[], 500, 60000, 0, 10000) c WHERE NOT (c.claim IS NULL)', [
      'bench',
      [type],
    ]);
    if (rows.length === 0) throw new Error('nothing ready to advance');
    await pg.query(`SELECT count(*) FROM tasker.complete_steps($1::bigint[], $2::uuid[], $3::jsonb[])`, [
      rows.map((r) => r.step_id),
      rows.map((r) => r.lease_token),
      rows.map(() => '{}'),
    ]);
    const { rows: s } = await pg.query("SELECT count(*)::int AS n FROM tasker.workflow_steps WHERE state = 'complete' AND named_task_id = $1", [type]);
    if (s[0].n >= done) return;
  }
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const began = performance.now();
  await fn();
  return performance.now() - began;
}

/** p50 of the claim (rolled back, so every sample sees the same state) and of the readiness query. */
async function sample(pg: Client, type: number, taskId: string): Promise<{ claim: number; readiness: number }> {
  const claim: number[] = [];
  const readiness: number[] = [];
  for (let i = 0; i < SAMPLES + 5; i++) {
    await pg.query('BEGIN');
    const c = await timeIt(() => pg.query('SELECT * FROM tasker.claim_steps($1, $2::int[], 10, 60000, 0, 10000)', ['bench', [type]]));
    await pg.query('ROLLBACK');
    const r = await timeIt(() => pg.query('SELECT * FROM tasker.step_readiness($1)', [taskId]));
    if (i >= 5) {
      claim.push(c);
      readiness.push(r);
    }
  }
  return { claim: percentile(claim, 50), readiness: percentile(readiness, 50) };
}

/** A fresh layered task of `steps`, run half way, then sampled `runs` times. */
async function measureTask(ctx: BenchContext, steps: number): Promise<{ claim: number[]; readiness: number[] }> {
  const name = `layered_${steps}`;
  const type = await typeId(ctx.pg, name);
  const task = await ctx.control.tasker.createTask({ namespace: NS, name, version: '1' });
  await advance(ctx.pg, type, steps / 2);
  await ctx.pg.query('ANALYZE');
  const claim: number[] = [];
  const readiness: number[] = [];
  for (let r = 0; r < ctx.runs; r++) {
    const s = await sample(ctx.pg, type, task.id);
    claim.push(s.claim);
    readiness.push(s.readiness);
  }
  // Finish it, so it does not count as ready work for the next measurement.
  await ctx.pg.query("UPDATE tasker.workflow_steps SET state = 'cancelled' WHERE task_id = $1 AND state <> 'complete'", [task.id]);
  await ctx.pg.query("UPDATE tasker.tasks SET state = 'cancelled' WHERE id = $1", [task.id]);
  return { claim, readiness };
}

export const readinessWorkload: Workload = {
  suites: ['sql'],
  name: 'readiness',
  async run(ctx) {
    await truncateWork(ctx.pg);
    const results: Result[] = [];
    for (const [steps, target] of [
      [1_000, 5],
      [10_000, 50],
    ]) {
      const m = await measureTask(ctx, steps);
      results.push(summarize(`claim-${steps}`, 'ms p50', 'lower', m.claim, target, `claim_steps (10) on one ${steps}-step layered task, half done`));
      results.push(summarize(`readiness-${steps}`, 'ms p50', 'lower', m.readiness, target, `step_readiness of that task (all ${steps} steps explained)`));
    }
    return results;
  },
};

/**
 * Adds finished history straight in SQL (tasks, steps, edges and transitions shaped like the
 * engine's, in bulk: creating a million steps through the engine would take most of the bench),
 * then measures a 1,000-step task again and compares with the empty database.
 */
export const historyWorkload: Workload = {
  suites: ['sql'],
  name: 'history',
  async run(ctx) {
    await truncateWork(ctx.pg);
    const empty = await measureTask(ctx, 1_000);
    const finished = sized(ctx, 1_000_000);
    const tasks = Math.ceil(finished / 10);
    const type = await typeId(ctx.pg, 'dag_10');
    ctx.log(`adding ${finished.toLocaleString('en-US')} finished steps…`);
    await ctx.pg.query(
      `INSERT INTO tasker.tasks (named_task_id, namespace, name, version, state, steps_total, steps_done, created_at, completed_at)
       SELECT $1, 'bench', 'dag_10', '1', 'complete', 10, 10, now() - interval '1 day', now() - interval '1 day'
         FROM generate_series(1, $2)`,
      [type, tasks],
    );
    await ctx.pg.query(
      `INSERT INTO tasker.workflow_steps (task_id, named_task_id, name, position, state, attempts, retry_limit, retryable, backoff,
                                          parents_total, parents_done, results, started_at, completed_at)
       SELECT t.id, t.named_task_id, 's' || p, p, 'complete', 1, 3, true, '{}', least(p, 1), least(p, 1), '{}', t.created_at, t.completed_at
         FROM tasker.tasks t CROSS JOIN generate_series(0, 9) p
        WHERE t.state = 'complete'`,
    );
    await ctx.pg.query(
      `INSERT INTO tasker.workflow_step_edges (task_id, from_step_id, to_step_id)
       SELECT task_id, id - 1, id FROM tasker.workflow_steps WHERE state = 'complete' AND position > 0 AND named_task_id = $1`,
      [type],
    );
    await ctx.pg.query(
      `INSERT INTO tasker.workflow_step_transitions (task_id, step_id, step_name, from_state, to_state, attempt, actor)
       SELECT w.task_id, w.id, w.name, x.f, x.t, 1, 'bench'
         FROM tasker.workflow_steps w CROSS JOIN (VALUES ('pending', 'in_progress'), ('in_progress', 'complete')) x(f, t)
        WHERE w.named_task_id = $1`,
      [type],
    );
    await ctx.pg.query('VACUUM ANALYZE');
    const { rows } = await ctx.pg.query("SELECT count(*)::int AS n FROM tasker.workflow_steps WHERE state IN ('complete', 'cancelled')");
    const full = await measureTask(ctx, 1_000);
    const note = `one 1,000-step task, with ${rows[0].n.toLocaleString('en-US')} finished steps in the tables`;
    const ratio = (a: number[], b: number[]) => percentile(a, 50) / percentile(b, 50);
    return [
      summarize('history-claim-1000', 'ms p50', 'lower', full.claim, undefined, note),
      summarize('history-readiness-1000', 'ms p50', 'lower', full.readiness, undefined, note),
      summarize('history-claim-ratio', '× empty', 'lower', [ratio(full.claim, empty.claim)], 1.5, 'history-claim-1000 / claim-1000 on the empty database'),
      summarize('history-readiness-ratio', '× empty', 'lower', [ratio(full.readiness, empty.readiness)], 1.5, 'same for step_readiness'),
    ];
  },
};
