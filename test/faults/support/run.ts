/**
 * One fault run: a workload of many tasks of the reference shapes, created in waves while a
 * nemesis injects faults, then a wait for every task to settle and the checker over the history.
 * The nemesis, not the clock, decides how much work a run does: the load goes on, wave after wave,
 * until the nemesis has injected its faults, so a slow machine sees the same faults as a fast one
 * (on more work, not fewer faults).
 * The run returns its figures (the table of RELIABILITY.md) and appends them to
 * .tmp/faults/results.jsonl.
 */
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TaskerModule, TaskerService, TaskRequest } from 'nestjs-tasker';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { uniqueSchema } from '../../support/database';
import { compareEvents } from '../../support/event-check';
import { waitFor } from '../../support/wait';
import { check, readHistory, Verdict } from './checker';
import { Fleet, FleetOptions } from './fleet';
import { executionsTableSql, SHAPES, WORKLOAD_NAMESPACE, workloadProviders, WorkloadOptions } from './workload';

const ROOT = join(__dirname, '..', '..', '..');
export const RESULTS_DIR = join(ROOT, '.tmp', 'faults');

/** A small seeded PRNG (mulberry32): a run's choices are reproducible from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Nemesis {
  fleet: Fleet;
  schema: string;
  random: () => number;
  /** Resolves when the run's least load (`tasks`) has been created; more follows while the nemesis runs. */
  created: Promise<void>;
  /**
   * True once the load gave up: it created `maxTasksWithoutFault` tasks since the nemesis's last
   * fault, and the nemesis had not finished. A nemesis's loop ends when it sees it (the run then fails).
   */
  readonly stopped: boolean;
  /** Records one injected fault (what the table counts). */
  fault(what: string): void;
  /** Steps completed so far (read on a fresh connection; undefined while the server is down). */
  completedSteps(): Promise<number | undefined>;
  /** Waits until `n` more steps completed than when it was called: faults land while work goes on. Throws once the load stopped. */
  progress(n: number): Promise<void>;
  sleep(ms: number): Promise<void>;
}

export interface RunOptions {
  name: string;
  /** Server URL without an application name. */
  baseUrl: string;
  workers: number;
  /** The least number of tasks, created in `waves` waves; waves of the same size follow until the nemesis has finished. */
  tasks: number;
  waves: number;
  /** The most tasks the load creates with no fault injected in between (default 10 × `tasks`): past it, the run fails. */
  maxTasksWithoutFault?: number;
  seed: number;
  fleet?: Partial<Omit<FleetOptions, 'baseUrl' | 'schema' | 'workload' | 'logDir'>>;
  workload?: Partial<Omit<WorkloadOptions, 'databaseUrl' | 'schema'>>;
  /** Injects the run's faults while the load goes on; must leave every worker it stopped running again. */
  nemesis(n: Nemesis): Promise<void>;
  /** Called after the workers stopped and before the check (e.g. to remove an injected slowness). */
  beforeCheck?(schema: string): Promise<void>;
  /** More context for task number i than its x (the keys of flow-control limits, for instance). */
  context?(i: number, random: () => number): Record<string, unknown>;
  /**
   * Also prove that every committed transition's lifecycle event was published exactly once, by
   * one of the workers (for runs that kill no worker: a process killed between a commit and its
   * events takes them along, as documented).
   */
  checkEvents?: boolean;
  /** A check of the run's own beyond the checker's: its violations join the verdict's, its figures the report. */
  extraCheck?(baseUrl: string, schema: string): Promise<{ violations: string[]; figures?: Record<string, unknown> }>;
  settleTimeoutMs?: number;
}

export interface RunReport extends Verdict {
  run: string;
  /** Tasks the load created (the checker's `tasks` must be as many). */
  created: number;
  faults: string[];
  workers: number;
  seconds: number;
  unexpectedExits: string[];
  schema: string;
  /** The figures of the run's extra check, if it has one. */
  extra?: Record<string, unknown>;
}

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function faultRun(o: RunOptions): Promise<{ report: RunReport; fleet: Fleet }> {
  const began = Date.now();
  const schema = uniqueSchema(o.name.replace(/\W/g, '_'));
  // Two streams: the nemesis's choices (which fault, which victim, how long) come out the same for
  // one seed however the load's timing interleaves with them.
  const random = rng(o.seed);
  const loadRandom = rng(o.seed ^ 0x9e3779b9);
  const workload: WorkloadOptions = { maxStepMs: 30, ...o.workload, databaseUrl: `${o.baseUrl}?application_name=fault-recorder`, schema };

  // The creator: an API-only app (no worker) that records the workload's task types and creates tasks.
  const moduleRef = await Test.createTestingModule({
    imports: [
      EventEmitterModule.forRoot(),
      ScheduleModule.forRoot(),
      TaskerModule.forRoot({
        databaseUrl: `${o.baseUrl}?application_name=fault-creator`,
        schema,
        logging: false,
        poolSize: 3,
        ...(o.fleet?.statementTimeoutMs ? { statementTimeoutMs: o.fleet.statementTimeoutMs } : {}),
        worker: { enabled: false },
      }),
    ],
    providers: workloadProviders(workload),
  }).compile();
  const creator = await moduleRef.init();
  const tasker = creator.get(TaskerService);
  await query(o.baseUrl, executionsTableSql(schema));

  const fleet = new Fleet({ ...o.fleet, baseUrl: o.baseUrl, schema, workload, logDir: join(RESULTS_DIR, `${o.name}-logs`) });
  const faults: string[] = [];
  let report: RunReport | undefined;
  try {
    for (let i = 0; i < o.workers; i++) await fleet.spawn(`w${i + 1}`);

    // The load: waves of tasks with idempotency keys, each wave retried until the server took it
    // (a retry after a lost acknowledgement returns the same tasks: exactly one task per key).
    const perWave = Math.ceil(o.tasks / o.waves);
    const maxTasksWithoutFault = o.maxTasksWithoutFault ?? o.tasks * 10;
    let made = 0;
    let madeAtLastFault = 0;
    const createWave = async (wave: number) => {
      const requests: TaskRequest[] = [];
      for (let i = 0; i < perWave; i++, made++) {
        const shape = SHAPES[made % SHAPES.length];
        const x = 1 + Math.floor(loadRandom() * 30);
        requests.push({ name: shape.name, namespace: WORKLOAD_NAMESPACE, context: { ...o.context?.(made, loadRandom), x }, idempotencyKey: `${o.name}-${made}` });
      }
      await waitFor(`wave ${wave} to be created`, () => tasker.createTasks(requests).then(() => true), { timeoutMs: 60_000, intervalMs: 100 });
    };
    const stepCounts = async () => {
      try {
        const [r] = await query<{ done: number; left: number }>(
          o.baseUrl,
          `SELECT count(*) FILTER (WHERE state = 'complete')::int AS done, count(*) FILTER (WHERE state <> 'complete')::int AS left
             FROM "${schema}".workflow_steps`,
        );
        return r;
      } catch {
        return undefined; // the server is down right now
      }
    };
    const unsettledTasks = async () => {
      try {
        const [r] = await query<{ n: number }>(
          o.baseUrl,
          `SELECT count(*)::int AS n FROM "${schema}".tasks WHERE state NOT IN ('complete', 'error', 'cancelled', 'resolved_manually')`,
        );
        return r.n;
      } catch {
        return undefined; // the server is down right now
      }
    };
    const completedSteps = async () => (await stepCounts())?.done;
    const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
    let nemesisDone = false;
    let stopped = false;
    let leastCreated!: () => void;
    const created = new Promise<void>((resolve) => (leastCreated = resolve));
    const load = (async () => {
      let wave = 0;
      for (; wave < o.waves; wave++) {
        await createWave(wave);
        if (wave < o.waves - 1) await sleep(300 + loadRandom() * 700); // the schedule of the load, not an assertion
      }
      leastCreated();
      // More waves while the nemesis runs, each when the workers are close to running out of work:
      // they stay busy, and the backlog stays about one wave.
      for (; ; wave++) {
        for (;;) {
          if (nemesisDone) return;
          const left = await unsettledTasks();
          if (left !== undefined && left < perWave) break;
          await sleep(250);
        }
        if (made - madeAtLastFault >= maxTasksWithoutFault) {
          stopped = true;
          throw new Error(
            `The nemesis of run ${o.name} injected no fault while the load created ${made - madeAtLastFault} tasks (${faults.length} fault(s) before that, ` +
              `${made} tasks in all) and has not finished: its faults are not being injected (see its nemesis and ${join(RESULTS_DIR, `${o.name}-logs`)}).`,
          );
        }
        await createWave(wave);
      }
    })().catch((e) => {
      stopped = true;
      leastCreated(); // a nemesis waiting for the least load goes on, and sees that the load stopped
      throw e;
    });
    const nemesis: Nemesis = {
      fleet,
      schema,
      random,
      created,
      get stopped() {
        return stopped;
      },
      fault: (what) => {
        faults.push(what);
        madeAtLastFault = made;
      },
      completedSteps,
      progress: async (n) => {
        const from = await waitFor('the step count', completedSteps, { timeoutMs: 60_000, intervalMs: 100 });
        // The load goes on while the nemesis runs: more work always comes, unless the load stopped.
        await waitFor(
          `${n} more steps to complete`,
          async () => {
            if (stopped) return 'stopped';
            const c = await stepCounts();
            return !!c && c.done >= from + n;
          },
          { timeoutMs: 120_000, intervalMs: 50 },
        );
        if (stopped) throw new Error('the load stopped');
      },
      sleep,
    };
    const injected = o.nemesis(nemesis).finally(() => (nemesisDone = true));
    const [loaded, injecting] = await Promise.allSettled([load, injected]);
    // The load's reason first: when it stopped, the nemesis's own failure is only its consequence.
    if (loaded.status === 'rejected') throw loaded.reason;
    if (injecting.status === 'rejected') throw injecting.reason;

    // Every task settles (complete, or error if something went wrong: the checker tells).
    await waitFor(
      'every task to settle',
      async () => {
        const [r] = await query<{ n: number }>(
          o.baseUrl,
          `SELECT count(*)::int AS n FROM "${schema}".tasks WHERE state NOT IN ('complete', 'error', 'cancelled', 'resolved_manually')`,
        );
        return r.n === 0;
      },
      { timeoutMs: o.settleTimeoutMs ?? 120_000, intervalMs: 200 },
    ).catch(() => undefined); // the checker reports what did not settle
    await fleet.stopAll();
    await o.beforeCheck?.(schema);
    const history = await readHistory(o.baseUrl, schema);
    const verdict = check(history);
    const extra = await o.extraCheck?.(o.baseUrl, schema);
    if (extra) verdict.violations.push(...extra.violations);
    const events = o.checkEvents ? checkEvents(join(RESULTS_DIR, `${o.name}-logs`), schema, history.transitions) : undefined;
    if (events) verdict.violations.push(...events.violations);
    if (verdict.violations.length) {
      // The post-mortem: the whole history of every task named in a violation.
      const ids = new Set(verdict.violations.map((v) => /^task (\d+)/.exec(v)?.[1]).filter(Boolean));
      const of = <T extends { task_id: string }>(xs: T[]) => xs.filter((x) => ids.has(x.task_id));
      mkdirSync(RESULTS_DIR, { recursive: true });
      writeFileSync(
        join(RESULTS_DIR, `${o.name}-violations.json`),
        JSON.stringify({ violations: verdict.violations, steps: of(history.steps), transitions: of(history.transitions), executions: of(history.executions) }, null, 1),
      );
    }
    report = {
      run: o.name,
      created: made,
      faults,
      workers: o.workers,
      seconds: Math.round((Date.now() - began) / 1000),
      unexpectedExits: fleet.unexpectedExits,
      schema,
      ...verdict,
      ...(extra?.figures || events ? { extra: { ...extra?.figures, ...events?.figures } } : {}),
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    appendFileSync(join(RESULTS_DIR, 'results.jsonl'), `${JSON.stringify({ ...report, at: new Date().toISOString() })}\n`);
    process.stdout.write(`${summary(report)}\n`);
    return { report, fleet };
  } finally {
    await fleet.stopAll().catch(() => undefined);
    await creator.close().catch(() => undefined);
  }
}

/**
 * The events the workers recorded (their EVENTS_FILE, see fleet.ts) against the transitions: every
 * transition that stands for an event has exactly one (task.created, published by the creator, is
 * left out).
 */
function checkEvents(logDir: string, schema: string, transitions: Awaited<ReturnType<typeof readHistory>>['transitions']) {
  const events = readdirSync(logDir)
    .filter((f) => f.startsWith(`${schema}.`) && f.endsWith('.events.jsonl'))
    .flatMap((f) =>
      readFileSync(join(logDir, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    );
  const { missing, extra } = compareEvents(
    transitions.map((t) => ({ taskId: t.task_id, stepName: t.step_name, from: t.from_state, to: t.to_state, attempt: t.attempt, at: new Date(t.at) })),
    events,
  );
  const violations = [
    ...missing.map((k) => `event never published: ${k}`),
    ...extra.map((k) => `event published more than once: ${k}`),
  ];
  return { violations, figures: { events: events.length, eventsMissing: missing.length, eventsDuplicated: extra.length } };
}

/** One line of the table: run | faults injected | tasks | completed | lost | duplicated | re-executions | fenced. */
export function summary(r: RunReport): string {
  const kinds = new Map<string, number>();
  // A fault's kind is its text before a colon (what follows names the victim).
  for (const f of r.faults) kinds.set(f.split(':')[0], (kinds.get(f.split(':')[0]) ?? 0) + 1);
  const faults = [...kinds].map(([k, n]) => `${n}× ${k}`).join(', ');
  return (
    `| ${r.run} | ${faults || 'none'} | ${r.tasks} | ${r.completed} | ${r.lost} | ${r.duplicated} | ${r.reexecutions} | ` +
    `${r.leaseExpiries} | ${r.fencedLateFinishes} | ${r.releases} | ${r.seconds} s |` +
    (r.extra ? `\n  ${JSON.stringify(r.extra)}` : '') +
    (r.violations.length ? `\n  violations:\n  - ${r.violations.slice(0, 30).join('\n  - ')}` : '') +
    (r.unexpectedExits.length ? `\n  unexpected exits: ${r.unexpectedExits.join('; ')}` : '')
  );
}

/** What every fault run must show: no worker died unexpectedly, no checker violation, every task created completed once. */
export function expectCleanRun(report: RunReport): void {
  expect(report.unexpectedExits).toEqual([]);
  expect(report.violations).toEqual([]);
  expect({ tasks: report.tasks, completed: report.completed, lost: report.lost, duplicated: report.duplicated }).toEqual({
    tasks: report.created,
    completed: report.created,
    lost: 0,
    duplicated: 0,
  });
}
