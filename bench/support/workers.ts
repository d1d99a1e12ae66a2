import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { FromWorker, ToWorker } from './worker-process';

export interface WorkerHandle {
  child: ChildProcess;
  send(m: ToWorker): void;
  /** The next message of this type. */
  next<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>>;
  stop(): Promise<void>;
}

/** Forks worker processes (bench/support/worker-process.ts) and waits until all have booted. */
export async function spawnWorkers(
  count: number,
  env: WorkerEnv,
): Promise<WorkerHandle[]> {
  const handles = Array.from({ length: count }, () => spawnWorker(env));
  await Promise.all(handles.map((h) => h.next('ready')));
  return handles;
}

/** holdMs: every step holds its context's `k` that long; starts: the process notes when each step started. */
export interface WorkerEnv {
  types: string;
  concurrency: number;
  pool?: number;
  sleep?: boolean;
  holdMs?: number;
  starts?: boolean;
  /** worker.prefetch (default 0). */
  prefetch?: number;
  databaseUrl: string;
}

function spawnWorker(env: WorkerEnv): WorkerHandle {
  const child = fork(join(__dirname, 'worker-process.ts'), [], {
    // BENCH_WORKER_NODE_OPTIONS: e.g. --cpu-prof to profile the worker processes.
    execArgv: ['-r', require.resolve('@swc-node/register'), ...(process.env.BENCH_WORKER_NODE_OPTIONS?.split(' ').filter(Boolean) ?? [])],
    env: {
      ...process.env,
      DATABASE_URL: env.databaseUrl,
      BENCH_TYPES: env.types,
      BENCH_CONCURRENCY: String(env.concurrency),
      BENCH_PREFETCH: String(env.prefetch ?? 0),
      BENCH_POOL: String(env.pool ?? 10),
      BENCH_SLEEP: env.sleep ? '1' : '0',
      BENCH_HOLD_MS: String(env.holdMs ?? 0),
      BENCH_STARTS: env.starts ? '1' : '0',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters: { type: string; resolve: (m: FromWorker) => void; reject: (e: Error) => void }[] = [];
  child.on('message', (m: FromWorker) => {
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
  });
  child.on('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`bench worker exited (code ${code}) while the bench waited for '${w.type}'`));
  });
  return {
    child,
    send: (m) => child.send(m),
    next: (type) => new Promise((resolve, reject) => waiters.push({ type, resolve: resolve as (m: FromWorker) => void, reject })),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}
