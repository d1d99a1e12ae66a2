/**
 * What the database spends per plain job, statement by statement, independent of the machine's
 * load: the CPU time of the one backend that runs the claims and the completions (from /proc) and
 * the WAL they write. N single-step tasks are created, then claimed and completed in batches of
 * 50 exactly as a worker's statements do, three rounds.
 *
 *   npm run bench:db-cost            (embedded PostgreSQL, or DATABASE_URL: use a database of its own,
 *                                     the WAL figure is the whole server's)
 *   N=2000 npm run bench:db-cost
 */
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { benchOptions, startBenchApp } from './support/app';
import { job, NS } from './workflows';

const url = process.env.DATABASE_URL!;
const N = Number(process.env.N ?? 10_000);
const BATCH = 50;

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function main(): Promise<void> {
  const bench = await startBenchApp(benchOptions(url, { enabled: false, concurrency: BATCH }), [job()]);
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const pid = (await pg.query('SELECT pg_backend_pid() AS p')).rows[0].p as number;
    const types = (await pg.query('SELECT array_agg(id) AS a FROM tasker.named_tasks')).rows[0].a as number[];
    const walBytes = async () => Number((await pg.query(`SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint AS b`)).rows[0].b);
    for (let round = 0; round < 3; round++) {
      await pg.query('TRUNCATE tasker.tasks, tasker.workflow_steps, tasker.workflow_step_edges, tasker.task_transitions, tasker.workflow_step_transitions');
      for (let i = 0; i < N; i += 1_000) {
        await bench.tasker.createTasks(Array.from({ length: Math.min(1_000, N - i) }, () => ({ namespace: NS, name: 'job', version: '1' })));
      }
      await pg.query('VACUUM ANALYZE tasker.tasks, tasker.workflow_steps');
      const spent = { claim: { cpu: 0, wal: 0 }, complete: { cpu: 0, wal: 0 } };
      const measure = async <T>(part: keyof typeof spent, run: () => Promise<T>): Promise<T> => {
        const [c0, w0] = [cpuMs(pid), await walBytes()];
        const out = await run();
        spent[part].cpu += cpuMs(pid) - c0;
        spent[part].wal += (await walBytes()) - w0;
        return out;
      };
      for (let i = 0; i < N / BATCH; i++) {
        const { rows } = await measure('claim', () =>
          pg.query(
            `SELECT (c.claim).step_id::text AS id, (c.claim).lease_token::text AS token
               FROM tasker.claim_steps('bench', $1, $2, 60000, 0, 60000) c WHERE (c.claim).step_id IS NOT NULL`,
            [types, BATCH],
          ),
        );
        await measure('complete', () =>
          pg.query('SELECT count(*) FROM tasker.complete_steps($1::bigint[], $2::uuid[], $3::jsonb[])', [
            rows.map((r) => r.id),
            rows.map((r) => r.token),
            rows.map(() => '{"ok":true}'),
          ]),
        );
      }
      const left = (await pg.query(`SELECT count(*)::int AS n FROM tasker.tasks WHERE state <> 'complete'`)).rows[0].n as number;
      if (left > 0) throw new Error(`${left} tasks not complete after the rounds`);
      const per = (x: number, scale: number) => ((x * scale) / N).toFixed(0);
      console.log(
        `round ${round + 1}: claim ${per(spent.claim.cpu, 1000)} µs CPU, ${per(spent.claim.wal, 1)} B WAL per job; ` +
          `completion ${per(spent.complete.cpu, 1000)} µs CPU, ${per(spent.complete.wal, 1)} B WAL per job`,
      );
    }
  } finally {
    await pg.end();
    await bench.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
