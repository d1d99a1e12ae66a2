// Internals: picks the backends to kill in pg_stat_activity by the engine's SQL function names (claim_steps, complete_one, ...), so that they die mid-statement.
import { TaskRequest } from 'nestjs-tasker';
import { check, readHistory } from '../faults/support/checker';
import { executionsTableSql, SHAPES, WORKLOAD_NAMESPACE, workloadProviders } from '../faults/support/workload';
import { databaseUrl, dropSchema, uniqueSchema, withClient } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { waitFor } from '../support/wait';

/** The URL with an application name, so this test's backends (and only they) can be found and killed. */
function named(url: string, app: string): string {
  const u = new URL(url);
  u.searchParams.set('application_name', app);
  return u.toString();
}

/**
 * The short version of the fault runs (npm run test:faults has the long ones): two workers in this
 * process run the reference shapes while their database backends are killed in the middle of
 * statements; the checker then proves the history valid (every task complete, each step completed
 * exactly once by the attempt whose result is stored, no step before its parents, no overlapping
 * leases, complete ordered audit trails, dependents saw their parents' stored results).
 */
describe('workload under faults (short run)', () => {
  const schema = uniqueSchema('checker');
  const apps: TestApp[] = [];
  const appName = (i: number) => `${schema}_w${i}`;

  afterAll(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    await dropSchema(schema);
  });

  it('finishes every task exactly once while the workers’ backends are killed mid-statement, and the history checks out', async () => {
    const workload = { databaseUrl: named(databaseUrl(), `${schema}_rec`), schema, maxStepMs: 15 };
    for (const i of [1, 2]) {
      apps.push(
        await startApp(schema, workloadProviders(workload), {
          databaseUrl: named(databaseUrl(), appName(i)),
          worker: { concurrency: 6, leaseMs: 2_000 },
        }),
      );
      if (i === 1) await withClient((c) => c.query(executionsTableSql(schema)));
    }
    const requests: TaskRequest[] = Array.from({ length: 36 }, (_, n) => ({
      name: SHAPES[n % SHAPES.length].name,
      namespace: WORKLOAD_NAMESPACE,
      context: { x: 1 + (n % 13) },
      idempotencyKey: `checker-${n}`,
    }));

    // The nemesis: kill a backend of either worker that is running one of Tasker's statements, until 10 died.
    let killed = 0;
    let done = false;
    const nemesis = (async () => {
      while (killed < 10 && !done) {
        const { rows } = await withClient((c) =>
          c.query(
            `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
              WHERE application_name = ANY ($1) AND state = 'active' AND pid <> pg_backend_pid()
                AND query ~ '(claim_steps|complete_steps|complete_one|fail_step|renew_leases|expire_leases)' LIMIT 1`,
            [[appName(1), appName(2)]],
          ),
        );
        killed += rows.filter((r) => r.ok).length;
        await new Promise((r) => setTimeout(r, 5)); // a schedule for the faults, not an assertion
      }
    })();
    // Waves, each retried until the database took it (a creation whose connection was killed), by idempotency key.
    for (let w = 0; w < 3; w++) {
      const wave = requests.slice(w * 12, w * 12 + 12);
      await waitFor(`wave ${w}`, () => apps[w % 2].tasker.createTasks(wave).then(() => true));
    }
    await waitFor(
      'every task to settle',
      async () => {
        const { rows } = await withClient((c) =>
          c.query(`SELECT count(*)::int AS n FROM "${schema}".tasks WHERE state NOT IN ('complete', 'error', 'cancelled', 'resolved_manually')`),
        );
        return rows[0].n === 0;
      },
      { timeoutMs: 60_000 },
    );
    done = true;
    await nemesis;
    while (apps.length) await apps.pop()!.close();

    const verdict = check(await readHistory(databaseUrl(), schema));
    expect(verdict.violations).toEqual([]);
    expect({ tasks: verdict.tasks, completed: verdict.completed, lost: verdict.lost, duplicated: verdict.duplicated }).toEqual({
      tasks: 36,
      completed: 36,
      lost: 0,
      duplicated: 0,
    });
    expect(killed).toBeGreaterThan(0);
  });
});
