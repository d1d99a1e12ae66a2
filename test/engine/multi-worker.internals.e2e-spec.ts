// Internals: TaskerWorker's owner id, to tell which app's worker claimed each attempt.
import { Pool } from 'pg';
import { databaseUrl, dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { waitFor } from '../support/wait';
import { AttemptRecorder, recordedDiamondProviders } from '../fixtures/recorded-diamond.workflow';
import { TaskerWorker } from '../../libs/tasker/src/orchestration/tasker.worker';

const TASKS = 50;
const STEPS = ['a', 'b', 'c', 'd'];

/**
 * Two workers (two Nest apps in one process, each with its own pool, LISTEN connection and
 * worker) share one schema: every step runs exactly once, never twice at the same time, and
 * both workers take part.
 */
describe('two workers on one schema', () => {
  const schema = uniqueSchema('mw');
  const table = `"${schema}".attempt_log`;
  const pool = new Pool({ connectionString: databaseUrl(), max: 6 });
  const apps: TestApp[] = [];
  let taskIds: string[] = [];

  beforeAll(async () => {
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await AttemptRecorder.createTable(pool, table);
    // Boot one after the other (each app also migrates at boot; concurrent boots are another test's subject).
    for (const id of ['app-1', 'app-2']) {
      apps.push(await startApp(schema, recordedDiamondProviders(new AttemptRecorder(pool, table, id)), { worker: { concurrency: 4 } }));
    }
    const created = await apps[0].tasker.createTasks(
      Array.from({ length: TASKS }, (_, i) => ({ name: 'recorded_diamond', namespace: 'multi', context: { x: i } })),
    );
    taskIds = created.map((t) => t.id);
    await waitFor(
      `all ${TASKS} diamond tasks to settle`,
      async () => {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${schema}".tasks WHERE state IN ('complete', 'error', 'cancelled')`,
        );
        return rows[0].n === TASKS || undefined;
      },
      { timeoutMs: 45_000, intervalMs: 50 },
    );
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    await pool.end();
    await dropSchema(schema);
  });

  it('completes every task with the results of the diamond', async () => {
    expect(new Set(taskIds).size).toBe(TASKS);
    for (const [i, id] of taskIds.entries()) {
      const t = await apps[1].tasker.getTask(id);
      expect(t.state).toBe('complete');
      expect(Object.fromEntries(t.steps.map((s) => [s.name, s.results]))).toEqual({ a: i, b: i + 1, c: 2 * i, d: 3 * i + 1 });
      expect(t.steps.map((s) => [s.state, s.attempts])).toEqual(STEPS.map(() => ['complete', 1]));
    }
  });

  it('ran each step exactly once and recorded exactly one completion for it', async () => {
    const { rows: runs } = await pool.query<{ task_id: string; step_name: string; n: number; ended: number }>(
      `SELECT task_id::text, step_name, count(*)::int AS n, count(ended_at)::int AS ended FROM ${table} GROUP BY 1, 2`,
    );
    expect(runs).toHaveLength(TASKS * STEPS.length);
    expect(runs.filter((r) => r.n !== 1 || r.ended !== 1)).toEqual([]);

    const { rows: completions } = await pool.query<{ n: number; steps: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT step_id)::int AS steps
         FROM "${schema}".workflow_step_transitions WHERE to_state = 'complete'`,
    );
    expect(completions[0]).toEqual({ n: TASKS * STEPS.length, steps: TASKS * STEPS.length });
    const { rows: claims } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".workflow_step_transitions WHERE to_state = 'in_progress'`,
    );
    expect(claims[0].n).toBe(TASKS * STEPS.length);
  });

  it('let both workers do work, and each attempt ran in the app whose worker claimed it', async () => {
    const { rows } = await pool.query<{ app_id: string; n: number }>(
      `SELECT app_id, count(*)::int AS n FROM ${table} GROUP BY 1 ORDER BY 1`,
    );
    expect(rows.map((r) => r.app_id)).toEqual(['app-1', 'app-2']);
    expect(rows.every((r) => r.n > 0)).toBe(true);

    // Each attempt was run by the app whose worker claimed it.
    const owner = new Map(apps.map((a, i) => [a.get(TaskerWorker).owner, `app-${i + 1}`]));
    const { rows: mismatched } = await pool.query<{ actor: string; app_id: string }>(
      `SELECT t.actor, l.app_id FROM "${schema}".workflow_step_transitions t
         JOIN "${schema}".workflow_steps w ON w.id = t.step_id
         JOIN ${table} l ON l.task_id = t.task_id AND l.step_name = w.name AND l.attempt = t.attempt
        WHERE t.to_state = 'in_progress'`,
    );
    expect(mismatched).toHaveLength(TASKS * STEPS.length);
    expect(mismatched.filter((r) => owner.get(r.actor) !== r.app_id)).toEqual([]);
  });

  it('never ran two attempts of the same step at the same time', async () => {
    const { rows } = await pool.query(
      `SELECT x.task_id, x.step_name, x.app_id AS app_x, y.app_id AS app_y
         FROM ${table} x JOIN ${table} y
           ON x.task_id = y.task_id AND x.step_name = y.step_name AND x.id < y.id
        WHERE tstzrange(x.started_at, coalesce(x.ended_at, 'infinity')) && tstzrange(y.started_at, coalesce(y.ended_at, 'infinity'))`,
    );
    expect(rows).toEqual([]);
  });

  it('ran every step only after all of its parents had finished', async () => {
    const { rows } = await pool.query(
      `SELECT c.task_id, c.step_name AS child, p.step_name AS parent
         FROM ${table} c JOIN ${table} p ON p.task_id = c.task_id
        WHERE ((c.step_name IN ('b', 'c') AND p.step_name = 'a') OR (c.step_name = 'd' AND p.step_name IN ('b', 'c')))
          AND c.started_at < p.ended_at`,
    );
    expect(rows).toEqual([]);
  });

  it('left no lease behind and published every lifecycle event exactly once across both apps', async () => {
    await withClient(async (c) => {
      const { rows } = await c.query(
        `SELECT id FROM "${schema}".workflow_steps WHERE lease_token IS NOT NULL OR lease_owner IS NOT NULL`,
      );
      expect(rows).toEqual([]);
    });
    const completed = apps.flatMap((a) => a.events.filter((e) => e.event === 'tasker.task.completed').map((e) => e.taskId));
    expect(completed.sort()).toEqual([...taskIds].sort());
    // Every lifecycle event exactly once across the two processes (the original Tasker published some up to three times).
    const counts: Record<string, number> = {};
    for (const e of apps.flatMap((a) => a.events)) counts[e.event] = (counts[e.event] ?? 0) + 1;
    expect(counts).toEqual({
      'tasker.task.created': TASKS,
      'tasker.task.started': TASKS,
      'tasker.step.started': TASKS * STEPS.length,
      'tasker.step.completed': TASKS * STEPS.length,
      'tasker.task.completed': TASKS,
    });
    const perStep = new Map<string, number>();
    for (const e of apps.flatMap((a) => a.events)) {
      if (e.event === 'tasker.step.completed') perStep.set(`${e.taskId}/${e.stepName}`, (perStep.get(`${e.taskId}/${e.stepName}`) ?? 0) + 1);
    }
    expect([...perStep.values()].filter((n) => n !== 1)).toEqual([]);
  });
});
