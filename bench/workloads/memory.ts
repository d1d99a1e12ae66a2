/** Resident memory of a worker process holding 1,000 running steps (each waits to be released). */
import { truncateWork, waitUntil } from '../support/database';
import { summarize } from '../support/stats';
import { spawnWorkers } from '../support/workers';
import { NS } from '../workflows';
import { sized, Workload } from './context';

export const memoryWorkload: Workload = {
  suites: ['memory'],
  name: 'memory',
  async run(ctx) {
    const n = sized(ctx, 1_000);
    const runs: number[] = [];
    const idle: number[] = [];
    for (let r = 0; r < ctx.runs; r++) {
      await truncateWork(ctx.pg);
      await ctx.control.tasker.createTasks(Array.from({ length: n }, () => ({ namespace: NS, name: 'sleeper', version: '1' })));
      const [w] = await spawnWorkers(1, { types: 'sleeper', concurrency: n, sleep: true, databaseUrl: ctx.databaseUrl });
      try {
        const before = w.next('report');
        w.send({ type: 'report' });
        idle.push((await before).rss / 2 ** 20);
        w.send({ type: 'go' });
        await waitUntil(ctx.pg, "SELECT count(*) >= $1 FROM tasker.workflow_steps WHERE state = 'in_progress'", [n]);
        let rss = 0;
        for (;;) {
          const p = w.next('report');
          w.send({ type: 'report' });
          const rep = await p;
          if (rep.inFlight >= n) {
            rss = rep.rss;
            break;
          }
          await new Promise((res) => setTimeout(res, 20));
        }
        runs.push(rss / 2 ** 20);
        ctx.log(`memory run ${r + 1}: ${Math.round(rss / 2 ** 20)} MB RSS with ${n} steps in flight`);
        w.send({ type: 'release' });
        await waitUntil(ctx.pg, "SELECT NOT EXISTS (SELECT 1 FROM tasker.tasks WHERE state IN ('pending', 'in_progress'))");
      } finally {
        await w.stop();
      }
    }
    return [
      summarize('memory-idle', 'MB RSS', 'lower', idle, undefined, 'the same worker process booted, before it claims (TypeScript compiled in memory by @swc-node)'),
      summarize('memory-1000-in-flight', 'MB RSS', 'lower', runs, 200, `one worker process, concurrency ${n}, ${n} sleeping steps`),
    ];
  },
};
