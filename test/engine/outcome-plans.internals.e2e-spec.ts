// Internals: calls the engine's other SQL functions itself (outcomes other than success, the lease sweep, operator actions, waits and maps) and reads the plans of the statements inside them with auto_explain, to fail on whole-table scans.
import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import { explainNestedStatements, wholeIndexScans, wholeTableScans } from '../support/plans';
import { engineSchema } from '../support/engine-schema';

@TaskHandler({ name: 'line', namespace: 'outcome-plans', version: '1' })
class LineWorkflow {
  @Step()
  first() {
    return 1;
  }

  @Step()
  @DependsOn('first')
  second() {
    return 2;
  }

  @Step()
  @DependsOn('second')
  third() {
    return 3;
  }
}

/**
 * A renewal finds its leases by token, which no index holds: it reads the lease index, a partial
 * index of the running attempts only, so its cost follows the attempts running, never the history.
 */
const RENEWAL_READS = /^renew_leases .*workflow_steps_lease_idx\b/;

interface Claim {
  step_id: string;
  task_id: string;
  lease_token: string;
}

/**
 * Failures, releases, skips, waits, map expansions, lease renewals and sweeps, cancellations,
 * retries, signals, creation and the readiness explained to operators must reach rows through their keys whatever the statistics say, like the hot
 * path: on a young schema (never analyzed) a generic plan built from stale row counts can scan a
 * whole table, and the statement then gets slower as history grows. The session forces generic
 * plans, the ones a function's statements end up with after a few calls, and every statement
 * inside the functions is explained with auto_explain.
 */
describe('the plans of the engine’s other functions', () => {
  const db = engineSchema('oplans', [LineWorkflow],
    // Enough rows that a table scan looks cheaper than a few key lookups to a planner without statistics.
    (api) => api.tasker.createTasks(Array.from({ length: 300 }, () => ({ name: 'line', namespace: 'outcome-plans', context: {} }))),
  );
  const { s } = db;

  it('reach every row by key: no scan of a whole table or of a whole index', async () => {
    const types = (await db.client.query<{ id: number }>(`SELECT id FROM ${s}.named_tasks WHERE name = 'line'`)).rows.map((r) => r.id);
    const claim = async (n: number, leaseMs = 30_000): Promise<Claim[]> =>
      (await db.client.query<Claim>(`SELECT (c.claim).* FROM ${s}.claim_steps('plans-test', $1::int[], $2, $3, 0, 10000) c WHERE NOT (c.claim IS NULL)`, [types, n, leaseMs])).rows;
    const plans = await explainNestedStatements(db.client);
    await db.client.query('SET plan_cache_mode = force_generic_plan');

    const byFunction: Record<string, string[]> = {};
    /** Runs `sql`, and files the plans of its statements under `fn`. */
    const run = async (fn: string, sql: string, params: unknown[]) => {
      plans.length = 0;
      const rows = (await db.client.query(sql, params)).rows;
      (byFunction[fn] ??= []).push(...plans);
      return rows;
    };

    // Two rounds: the second runs on the plans the first cached in this session.
    for (let round = 0; round < 2; round++) {
      const c = await claim(12);
      expect(c).toHaveLength(12);
      await run('fail_step', `SELECT * FROM ${s}.fail_step($1, $2::uuid, '{"name":"Boom"}'::jsonb, now())`, [c[0].step_id, c[0].lease_token]);
      await run('fail_step', `SELECT * FROM ${s}.fail_step($1, $2::uuid, '{"name":"Boom"}'::jsonb, NULL)`, [c[1].step_id, c[1].lease_token]);
      expect((await db.client.query(`SELECT state FROM ${s}.tasks WHERE id = $1`, [c[1].task_id])).rows[0].state).toBe('error');
      await run('retry_task', `SELECT * FROM ${s}.retry_task($1, 'operator', 'again')`, [c[1].task_id]);
      await run('release_step', `SELECT * FROM ${s}.release_step($1, $2::uuid, 'stopping')`, [c[2].step_id, c[2].lease_token]);
      const renewed = await run('renew_leases', `SELECT t FROM ${s}.renew_leases($1::uuid[], 30000) t`, [[c[3].lease_token, c[4].lease_token]]);
      expect(renewed).toHaveLength(2);
      await run('cancel_task', `SELECT * FROM ${s}.cancel_task($1, 'operator', NULL)`, [c[5].task_id]);
      await run('skip_step', `SELECT * FROM ${s}.skip_step($1, $2::uuid, 'condition false')`, [c[6].step_id, c[6].lease_token]);
      await run('wait_step', `SELECT * FROM ${s}.wait_step($1, $2::uuid, '{"kind":"signal","name":"go"}'::jsonb, NULL)`, [c[7].step_id, c[7].lease_token]);
      await run('signal_task', `SELECT * FROM ${s}.signal_task($1, 'go', '{"ok":true}'::jsonb, 'operator', NULL)`, [c[7].task_id]);
      // A signal sent before its step waits is kept, and delivered by the wait.
      await run('signal_task', `SELECT * FROM ${s}.signal_task($1, 'go', '{"ok":true}'::jsonb, 'operator', NULL)`, [c[8].task_id]);
      await run('wait_step', `SELECT * FROM ${s}.wait_step($1, $2::uuid, '{"kind":"signal","name":"go"}'::jsonb, NULL)`, [c[8].step_id, c[8].lease_token]);
      await run('wait_step', `SELECT * FROM ${s}.wait_step($1, $2::uuid, '{"kind":"sleep","until":"2999-01-01T00:00:00Z"}'::jsonb, NULL)`, [
        c[9].step_id,
        c[9].lease_token,
      ]);
      await run('expand_map', `SELECT * FROM ${s}.expand_map($1, $2::uuid, '[1, 2, 3]'::jsonb, 2)`, [c[10].step_id, c[10].lease_token]);
      // The sweep's attempts: leases that ran out.
      await db.client.query(`UPDATE ${s}.workflow_steps SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [c[11].step_id]);
      const expired = await run('expire_leases', `SELECT * FROM ${s}.expire_leases(100)`, []);
      expect(expired.some((e) => e.step_id === c[11].step_id)).toBe(true);
      // Creation, a task at a time and in bulk, a key used once and then again (the existing task comes back).
      const request = (key?: string) => ({ namedTaskId: types[0], context: { round }, ...(key ? { idempotencyKey: key } : {}) });
      for (const requests of [[request()], [request(), request(), request()], [request(`k${round}`)], [request(`k${round}`)]]) {
        const created = await run('create_tasks', `SELECT c.idx, c.created, (c.task).id FROM ${s}.create_tasks($1::jsonb) c`, [JSON.stringify(requests)]);
        expect(created).toHaveLength(requests.length);
      }
      // Why each step of a task is (not) ready: the operator's question, on a task with a step waiting, one failed and one running.
      const explainedSteps = await run('step_readiness', `SELECT * FROM ${s}.step_readiness($1)`, [c[7].task_id]);
      expect(explainedSteps.map((r) => r.step_name)).toEqual(['first', 'second', 'third']);
    }

    const functions = Object.keys(byFunction);
    expect(functions).toHaveLength(12);
    // Every function's statements were explained (the functions' own statements are nested ones).
    const explained = Object.fromEntries(functions.map((fn) => [fn, byFunction[fn].some((p) => /Query Text:.*\n[\s\S]*on (workflow_steps|tasks)\b/.test(p))]));
    expect(explained).toEqual(Object.fromEntries(functions.map((fn) => [fn, true])));
    const scans = Object.fromEntries(
      functions.map((fn) => [fn, [...wholeTableScans(byFunction[fn]), ...wholeIndexScans(byFunction[fn]).filter((scan) => !RENEWAL_READS.test(fn + ' ' + scan))]]),
    );
    expect(scans).toEqual(Object.fromEntries(functions.map((fn) => [fn, []])));
  });
});
