/**
 * A worker in its own OS process, driven by the bench over IPC. It boots without claiming
 * (so the bench can build a backlog first and time the drain alone), then on `go` starts the
 * worker, its wake-up listener and its lease sweeper, as TaskerModule's bootstrap would.
 *
 * Environment: DATABASE_URL, BENCH_CONCURRENCY, BENCH_PREFETCH, BENCH_POOL, BENCH_TYPES (comma-separated names
 * of bench/workflows.ts factories with their argument, e.g. `job,fanOut:500`), BENCH_SLEEP=1 to
 * make every step wait for a `release` message.
 */
import 'reflect-metadata';
import { Type } from '@nestjs/common';
import { LeaseSweeper } from '../../libs/tasker/src/orchestration/lease.sweeper';
import { ScheduleRunner } from '../../libs/tasker/src/orchestration/schedule.runner';
import { TaskerWorker } from '../../libs/tasker/src/orchestration/tasker.worker';
import { WakeListener } from '../../libs/tasker/src/orchestration/wake.listener';
import { WorkSignals } from '../../libs/tasker/src/orchestration/work.signals';
import { TaskerDatabase } from '../../libs/tasker/src/persistence/tasker-database';
import { TASKER_DATABASE } from '../../libs/tasker/src/tasker.constants';
import { TaskerInternals } from '../../libs/tasker/src/tasker.internals';
import * as workflows from '../workflows';
import { benchOptions, startBenchApp } from './app';

export type ToWorker = { type: 'go' } | { type: 'release' } | { type: 'report' } | { type: 'clock' } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'report'; rss: number; inFlight: number; ran: string[]; claims: ClaimCounts; flow: FlowCounts }
  /** A latency-probed step started (workflows.latencyProbe): `at` = performance.timeOrigin + performance.now(). */
  | { type: 'started'; taskId: string; step: string; at: number }
  /** This process's performance.timeOrigin + performance.now(), to compare its clock with the bench's. */
  | { type: 'clock'; at: number }
  | { type: 'stopped' }
  /**
   * Steps this process has run since `go` (handler calls), sent when a claim finds nothing after
   * some ran: the bench polls the database for the end of a drain only once the handlers have all
   * run, as the peers' drivers do, so its polling does not load the server during the drain.
   */
  | { type: 'ran'; n: number };

/** What this process's worker did since the last report: claim queries, those that found nothing, NOTIFYs heard, connections. */
export interface ClaimCounts {
  /** Claim queries, alone or riding with a batch of successes. */
  claims: number;
  /** Claim queries of their own (a round-trip) that claimed nothing. */
  empty: number;
  notifies: number;
  /** Connections of Tasker's pool open at the report (the LISTEN connection not included). */
  connections: number;
}

/**
 * With BENCH_HOLD_MS, every step holds its task context's `k` that long: the most steps of one key
 * seen at once. With BENCH_STARTS=1, when each step started (wall clock ms), by task id.
 */
export interface FlowCounts {
  maxPerKey: number;
  starts: [taskId: string, at: number][];
}

export function typesFromSpec(spec: string): Type[] {
  return spec.split(',').map((s) => {
    const [name, arg] = s.split(':');
    const factory = (workflows as unknown as Record<string, (n?: number) => Type>)[name];
    if (!factory) throw new Error(`unknown bench workflow ${name}`);
    return factory(arg === undefined ? undefined : Number(arg));
  });
}

async function main(): Promise<void> {
  const send = (m: FromWorker) => process.send!(m);
  const ran: string[] = [];
  let ranTotal = 0; // steps run since `go`, and the last count sent to the bench
  let ranSent = 0;
  let inFlight = 0;
  const sleepers: (() => void)[] = [];
  const holdMs = Number(process.env.BENCH_HOLD_MS ?? 0);
  const keys = new Map<unknown, number>();
  const flow: FlowCounts = { maxPerKey: 0, starts: [] };
  workflows.stepProbe.onStep = (ctx) => {
    ran.push(`${ctx.step.id}:${ctx.step.attempt}`);
    ranTotal++;
    if (process.env.BENCH_STARTS === '1') flow.starts.push([ctx.task.id, performance.timeOrigin + performance.now()]);
    if (holdMs > 0) {
      const k = ctx.task.context['k'];
      const n = (keys.get(k) ?? 0) + 1;
      keys.set(k, n);
      flow.maxPerKey = Math.max(flow.maxPerKey, n);
      return new Promise<void>((resolve) => setTimeout(resolve, holdMs)).then(() => {
        keys.set(k, keys.get(k)! - 1);
      });
    }
    if (process.env.BENCH_SLEEP !== '1') return;
    inFlight++;
    return new Promise<void>((resolve) => sleepers.push(resolve)).then(() => {
      inFlight--;
    });
  };
  workflows.latencyProbe.started = (taskId, step) => send({ type: 'started', taskId, step, at: performance.timeOrigin + performance.now() });
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
  const bench = await startBenchApp(
    benchOptions(process.env.DATABASE_URL!, { enabled: false, concurrency, prefetch: Number(process.env.BENCH_PREFETCH ?? 0) }, Number(process.env.BENCH_POOL ?? 10)),
    typesFromSpec(process.env.BENCH_TYPES ?? 'job'),
  );
  const counts = { claims: 0, empty: 0, notifies: 0 };
  bench.app.get(TaskerInternals).onClaim((_ms, n, alone) => {
    counts.claims++;
    if (n === 0 && alone) counts.empty++;
    if (n === 0 && ranTotal !== ranSent) send({ type: 'ran', n: (ranSent = ranTotal) });
  });
  bench.app.get(WorkSignals).on({ notified: () => counts.notifies++ });
  const pool = () => (bench.app.get<TaskerDatabase>(TASKER_DATABASE).dataSource.driver as unknown as { master?: { totalCount: number } }).master;
  process.on('message', (m: ToWorker) => {
    void (async () => {
      if (m.type === 'go') {
        await bench.app.get(TaskerWorker).start();
        bench.app.get(LeaseSweeper).start();
        await bench.app.get(WakeListener).start();
        bench.app.get(ScheduleRunner).start();
      } else if (m.type === 'release') {
        for (const r of sleepers.splice(0)) r();
      } else if (m.type === 'clock') {
        send({ type: 'clock', at: performance.timeOrigin + performance.now() });
      } else if (m.type === 'report') {
        send({ type: 'report', rss: process.memoryUsage().rss, inFlight, ran: ran.splice(0), claims: { ...counts, connections: pool()?.totalCount ?? 0 }, flow: { ...flow, starts: flow.starts.splice(0) } });
        flow.maxPerKey = 0;
        Object.assign(counts, { claims: 0, empty: 0, notifies: 0 });
      } else if (m.type === 'stop') {
        for (const r of sleepers.splice(0)) r();
        await bench.app.get(ScheduleRunner).stop();
        await bench.close();
        send({ type: 'stopped' });
        process.disconnect();
      }
    })().catch((e) => {
      process.stderr.write(`bench worker: ${(e as Error).stack}\n`);
      process.exit(1);
    });
  });
  send({ type: 'ready' });
}

main().catch((e) => {
  process.stderr.write(`bench worker failed to boot: ${(e as Error).stack}\n`);
  process.exit(1);
});
