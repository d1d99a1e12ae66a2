/**
 * Worker processes of a fault run: started, killed (any signal), restarted and watched. A worker
 * that exits without having been told to is recorded in `unexpectedExits` (a crash the run must
 * report). Each process's output goes to a log file of the run, for the post-mortem.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../../support/wait';
import type { WorkloadOptions } from './workload';

const ROOT = join(__dirname, '..', '..', '..');

export interface FleetOptions {
  /** Server URL without an application name: each worker gets `fw:<label>` as its own. */
  baseUrl: string;
  schema: string;
  workload: WorkloadOptions;
  logDir: string;
  leaseMs?: number;
  concurrency?: number;
  poolSize?: number;
  shutdownTimeoutMs?: number;
  sweepIntervalMs?: number;
  statementTimeoutMs?: number;
}

export interface WorkerProcess {
  label: string;
  child: ChildProcess;
  owner: string;
  pid: number;
  /** Output lines (stdout and stderr). */
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Set when the harness sent a signal: the exit that follows is expected. */
  signalled?: NodeJS.Signals;
}

/** Every worker process started in this Jest process, to kill the strays of a run that timed out. */
const everyChild = new Set<ChildProcess>();

export class Fleet {
  /** Kills (SIGKILL) every worker process still alive: for afterAll, after a run that did not finish. */
  static killStrays(): void {
    for (const c of everyChild) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }

  readonly workers = new Map<string, WorkerProcess>();
  readonly unexpectedExits: string[] = [];
  private generation = 0;
  private readonly logs: WriteStream[] = [];

  constructor(private readonly opts: FleetOptions) {
    mkdirSync(opts.logDir, { recursive: true });
  }

  /** The application name of a worker's connections, to find its backends in pg_stat_activity. */
  static appName(label: string): string {
    return `fw:${label}`;
  }

  async spawn(label: string): Promise<WorkerProcess> {
    const o = this.opts;
    const url = `${o.baseUrl}?application_name=${encodeURIComponent(Fleet.appName(label))}`;
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'test/faults/support/fault-worker.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: url,
        TASKER_SCHEMA: o.schema,
        FAULT_WORKLOAD: JSON.stringify(o.workload),
        LEASE_MS: String(o.leaseMs ?? 2_000),
        CONCURRENCY: String(o.concurrency ?? 8),
        POOL_SIZE: String(o.poolSize ?? 5),
        SHUTDOWN_TIMEOUT_MS: String(o.shutdownTimeoutMs ?? 1_000),
        SWEEP_MS: String(o.sweepIntervalMs ?? 250),
        ...(o.statementTimeoutMs ? { STATEMENT_TIMEOUT_MS: String(o.statementTimeoutMs) } : {}),
        // Every lifecycle event the worker publishes, one JSON line each (read by the run's event check).
        EVENTS_FILE: join(o.logDir, `${o.schema}.${label}-${this.generation + 1}.events.jsonl`),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    everyChild.add(child);
    child.once('exit', () => everyChild.delete(child));
    const log = createWriteStream(join(o.logDir, `${label}-${++this.generation}.log`));
    this.logs.push(log);
    const lines: string[] = [];
    for (const stream of [child.stdout!, child.stderr!]) {
      let buf = '';
      stream.on('data', (d: Buffer) => {
        log.write(d);
        buf += d.toString();
        const parts = buf.split('\n');
        buf = parts.pop()!;
        lines.push(...parts);
      });
    }
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const proc: WorkerProcess = { label, child, owner: '', pid: child.pid!, lines, exited };
    void exited.then(({ code, signal }) => {
      if (!proc.signalled) this.unexpectedExits.push(`${label} (pid ${proc.pid}) exited by itself: code ${code}, signal ${signal}`);
      if (this.workers.get(label) === proc) this.workers.delete(label);
    });
    const ready = await waitFor(
      `worker ${label} to boot`,
      () => {
        if (child.exitCode !== null) throw new Error(`worker ${label} exited with ${child.exitCode}: ${lines.join('\n')}`);
        return lines.find((l) => l.startsWith('ready '));
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    proc.owner = ready.slice('ready '.length);
    this.workers.set(label, proc);
    return proc;
  }

  /** Sends a signal to a worker; resolves once it exited (SIGSTOP/SIGCONT resolve at once). */
  async signal(label: string, sig: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    const w = this.workers.get(label);
    if (!w) return undefined;
    if (sig === 'SIGSTOP' || sig === 'SIGCONT') {
      w.child.kill(sig);
      return undefined;
    }
    w.signalled = sig;
    w.child.kill(sig);
    return w.exited;
  }

  get labels(): string[] {
    return [...this.workers.keys()];
  }

  /** Graceful stop of every worker (SIGTERM), SIGKILL for any still running after 30 s. */
  async stopAll(): Promise<void> {
    const all = [...this.workers.values()];
    await Promise.all(
      all.map(async (w) => {
        w.signalled = 'SIGTERM';
        w.child.kill('SIGCONT'); // a paused worker cannot stop
        w.child.kill('SIGTERM');
        const timer = setTimeout(() => w.child.kill('SIGKILL'), 30_000);
        await w.exited;
        clearTimeout(timer);
      }),
    );
    for (const l of this.logs) l.end();
  }
}
