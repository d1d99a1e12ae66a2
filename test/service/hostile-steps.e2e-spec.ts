import { Inject } from '@nestjs/common';
import { DependsOn, Step, StepContext, TaskDetail, TaskHandler } from 'nestjs-tasker';
import { expectConsistentAuditTrail } from '../support/audit-check';
import { dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';

type Ctx = { mode: string };
type Mode = (ctx: StepContext<Ctx>) => unknown;

/** Values no sane step throws or returns, but a buggy one will. */
const hostileProxy = () =>
  new Proxy(
    {},
    {
      get: () => {
        throw new Error('proxy get');
      },
      getPrototypeOf: () => {
        throw new Error('proxy getPrototypeOf');
      },
      ownKeys: () => {
        throw new Error('proxy ownKeys');
      },
      has: () => {
        throw new Error('proxy has');
      },
    },
  );
const throwingGetters = () => {
  const e = new Error('x');
  for (const key of ['name', 'message', 'stack']) {
    Object.defineProperty(e, key, {
      get: () => {
        throw new Error(`getter ${key}`);
      },
    });
  }
  return e;
};
const deepArray = (n: number) => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = [v];
  return v;
};

const THROWS: Record<string, Mode> = {
  'a string': () => {
    throw 'plain string';
  },
  'a number': () => {
    throw 42;
  },
  null: () => {
    throw null;
  },
  undefined: () => {
    throw undefined;
  },
  'a symbol': () => {
    throw Symbol('sym');
  },
  'a BigInt': () => {
    throw 10n;
  },
  'an object whose toJSON and toString throw': () => {
    throw {
      toJSON() {
        throw new Error('toJSON');
      },
      toString() {
        throw new Error('toString');
      },
    };
  },
  'a Proxy whose every trap throws': () => {
    throw hostileProxy();
  },
  'an Error whose name, message and stack getters throw': () => {
    throw throwingGetters();
  },
  'a rejected promise with a frozen object': () => Promise.reject(Object.freeze({ reason: 'frozen' })),
  // Returning it is throwing: awaiting a value reads its `then`, and the trap throws there.
  'a Proxy as its result, whose every trap throws': () => hostileProxy(),
};
const RESULTS: Record<string, Mode> = {
  'a BigInt': () => ({ n: 10n }),
  'a circular object': () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    return o;
  },
  'a result over 8 MB': () => ({ blob: 'x'.repeat(9 * 1024 * 1024) }),
  'a NUL character': () => ({ s: 'a\u0000b' }),
  'a lone surrogate': () => ({ s: '\ud800' }),
  'a lone surrogate in a key': () => ({ ['\udfff']: 1 }),
  'a toJSON that throws': () => ({
    toJSON() {
      throw new Error('toJSON');
    },
  }),
  'a getter that throws': () =>
    Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    }),
  'JSON nested 20,000 levels deep': () => deepArray(20_000),
};
const MODES: Record<string, Mode> = {
  ok: () => 'fine',
  // Past its timeout: never settles.
  hang: () => new Promise(() => undefined),
  // Ignores its signal and resolves long after its timeout; then rejects, late, for the next mode.
  'ignore the signal': () => new Promise((resolve) => setTimeout(() => resolve('too late'), 1_000)),
  'reject after the timeout': () => new Promise((_, reject) => setTimeout(() => reject(new Error('late rejection')), 800)),
  ...Object.fromEntries(Object.entries(THROWS).map(([k, v]) => [`throw ${k}`, v])),
  ...Object.fromEntries(Object.entries(RESULTS).map(([k, v]) => [`return ${k}`, v])),
};

const STEP_MODES = Symbol('STEP_MODES');

@TaskHandler({ name: 'hostile', namespace: 'reliability', version: '1.0.0' })
class HostileStepsWorkflow {
  constructor(@Inject(STEP_MODES) private readonly modes: Record<string, Mode>) {}

  @Step({ retryLimit: 2, timeoutMs: 300, backoff: { baseMs: 10, maxMs: 10, jitter: 0 } })
  work(ctx: StepContext<Ctx>) {
    return this.modes[ctx.task.context.mode](ctx);
  }

  @Step()
  @DependsOn('work')
  after() {
    return 'after ran';
  }
}

/**
 * Steps that misbehave: hang past their timeout, ignore their AbortSignal, throw things that are
 * not Errors (some that cannot even be looked at), return what cannot be stored. Each task fails
 * cleanly, with a clear error on the step, its dependents never run, nothing is left unhandled,
 * and the same worker goes on running other tasks.
 */
describe('steps that misbehave', () => {
  const schema = uniqueSchema('hostile_steps');
  let t: TestApp;
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => void unhandled.push(e);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    // A short lease: an attempt whose outcome could not be recorded would show up as LeaseExpiredError (within seconds).
    t = await startApp(schema, [HostileStepsWorkflow, { provide: STEP_MODES, useValue: MODES }], { worker: { concurrency: 4, leaseMs: 3_000 } });
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await t?.close();
    await dropSchema(schema);
  });

  const run = async (mode: string): Promise<TaskDetail> => {
    const task = await t.tasker.createTask({ name: 'hostile', namespace: 'reliability', context: { mode } });
    return t.tasker.waitForTask(task.id, { timeoutMs: 30_000 });
  };
  const expectCleanFailure = async (done: TaskDetail, attempts: number, error: { name: string; code?: string; message: RegExp }) => {
    expect(done.state).toBe('error');
    const [work, after] = [done.steps.find((s) => s.name === 'work')!, done.steps.find((s) => s.name === 'after')!];
    expect(work).toMatchObject({ state: 'error', attempts });
    expect(work.results ?? null).toBeNull();
    expect(work.lastError).toMatchObject({ name: error.name, ...(error.code ? { code: error.code } : {}) });
    expect(work.lastError!.message).toMatch(error.message);
    expect(after.state).toBe('pending');
    const trail = await expectConsistentAuditTrail(t.tasker, done);
    // Every attempt ended by the worker's own outcome, never by a lapsed lease.
    expect(trail.filter((e) => e.error?.code === 'LEASE_EXPIRED')).toEqual([]);
  };

  it('a step that hangs past its timeout fails with STEP_TIMEOUT on each attempt', async () => {
    await expectCleanFailure(await run('hang'), 2, { name: 'StepTimeoutError', code: 'STEP_TIMEOUT', message: /timed out after 300 ms/ });
  });

  it('a step that ignores its signal fails at its timeout; its late result is not stored', async () => {
    await expectCleanFailure(await run('ignore the signal'), 2, { name: 'StepTimeoutError', code: 'STEP_TIMEOUT', message: /timed out/ });
  });

  it('a step that rejects after its timeout: the timeout is recorded, the late rejection goes nowhere', async () => {
    await expectCleanFailure(await run('reject after the timeout'), 2, { name: 'StepTimeoutError', code: 'STEP_TIMEOUT', message: /timed out/ });
  });

  it.each(Object.keys(THROWS))('a step that throws %s fails with a described error and is retried', async (what) => {
    const done = await run(`throw ${what}`);
    const lastError = done.steps.find((s) => s.name === 'work')!.lastError!;
    await expectCleanFailure(done, 2, { name: lastError.name === 'Error' ? 'Error' : 'NonErrorThrown', message: /\S/ });
  });

  it.each(Object.keys(RESULTS))('a step that returns %s fails at once with STEP_RESULT_INVALID', async (what) => {
    await expectCleanFailure(await run(`return ${what}`), 1, { name: 'StepResultError', code: 'STEP_RESULT_INVALID', message: /cannot be stored as JSON/ });
  });

  it('the worker survived all of it: it runs a normal task, and nothing was left unhandled', async () => {
    const done = await run('ok');
    expect(done.state).toBe('complete');
    expect(done.steps.map((s) => [s.name, s.results])).toEqual([
      ['work', 'fine'],
      ['after', 'after ran'],
    ]);
    expect(unhandled).toEqual([]);
  });
});
