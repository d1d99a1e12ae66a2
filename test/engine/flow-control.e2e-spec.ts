import { INestApplicationContext, ModuleMetadata, Provider } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, TestingModule } from '@nestjs/testing';
import { HandlerDefinitionError, Step, StepContext, TaskDetail, TaskerModule, TaskHandler, TaskValidationError, TaskView } from 'nestjs-tasker';
import { dropSchema, uniqueSchema } from '../support/database';
import { checkFlowLimits, FlowTask } from '../support/flow-limits';
import { describeViolations, transitionsFromAuditTrail } from '../support/limits-checker';
import { startApp, TestApp, testOptions } from '../support/tasker-app';
import { Latch, waitFor } from '../support/wait';
import { FLOW_LIMITS, flowProviders, flowTask } from '../fixtures/flow-control.workflows';

/**
 * SPEC §9.1–§9.3 one behaviour at a time: priority order, the starvation rule, what holds a task or
 * a step back (readiness reasons `concurrency limit…` and `rate limited…`) and in which order the
 * held ones start when a place frees, and bad options refused at boot. Orders are read from what
 * ran (in-process) and from the audit trails; nothing waits a fixed time, nothing asserts a duration.
 */
describe('flow control', () => {
  const schema = uniqueSchema('flow');
  const apps: TestApp[] = [];
  const boot = async (providers: Provider[], overrides: Parameters<typeof startApp>[2] = {}) => {
    const a = await startApp(schema, providers, overrides);
    apps.push(a);
    return a;
  };
  const closeAll = async () => {
    while (apps.length) await apps.pop()!.close().catch(() => undefined);
  };
  const refuse = () => Promise.reject(new Error('an API-only app must not run steps'));

  afterEach(closeAll);
  afterAll(async () => {
    await closeAll();
    await dropSchema(schema);
  });

  const settled = (tasker: TestApp['tasker'], ids: string[], timeoutMs = 30_000) =>
    Promise.all(ids.map((id) => tasker.waitForTask(id, { timeoutMs })));
  const step = (d: TaskDetail, name: string) => d.steps.find((s) => s.name === name)!;
  /** The checker over these tasks' audit trails. */
  const limitsOf = async (tasker: TestApp['tasker'], tasks: FlowTask[]) =>
    checkFlowLimits(tasks, transitionsFromAuditTrail(await Promise.all(tasks.map((t) => tasker.getAuditTrail(t.id)))));
  const asFlowTask = (v: TaskView, concurrencyKey?: string): FlowTask => ({ id: v.id, name: v.name, context: v.context, concurrencyKey });
  /** When each task moved to in_progress (its first start), by the audit trail. */
  const startedAt = async (tasker: TestApp['tasker'], id: string) =>
    (await tasker.getAuditTrail(id)).find((e) => !e.stepName && e.to === 'in_progress')!.at.getTime();

  describe('priority (§9.1)', () => {
    /**
     * Checks a start order against the rule: each claim takes the highest priority ready task (the
     * oldest among equals), or, one claim in ten, the oldest ready task whatever its priority.
     */
    function explainOrder(order: number[], priority: number[]): { unexplained: string[]; readinessPicks: number } {
      const ready = new Set(priority.map((_, i) => i));
      const unexplained: string[] = [];
      let readinessPicks = 0;
      order.forEach((c, k) => {
        const best = [...ready].sort((a, b) => priority[b] - priority[a] || a - b)[0];
        const oldest = Math.min(...ready);
        if (c !== best) {
          if (c === oldest) readinessPicks++;
          else unexplained.push(`claim ${k + 1} took #${c} (priority ${priority[c]}) while #${best} (priority ${priority[best]}) and the oldest #${oldest} were ready`);
        }
        ready.delete(c);
      });
      return { unexplained, readinessPicks };
    }

    it('is stored and shown (default 0), and refused outside −100…100 or when not an integer', async () => {
      const api = await boot(flowProviders(refuse), { worker: { enabled: false } });
      const [a, b, c] = await api.tasker.createTasks([
        { ...flowTask('prioritized'), context: {} },
        { ...flowTask('prioritized'), context: {}, priority: 100 },
        { ...flowTask('prioritized'), context: {}, priority: -100 },
      ]);
      expect([a.priority, b.priority, c.priority]).toEqual([0, 100, -100]);
      expect((await api.tasker.getTask(b.id)).priority).toBe(100);
      expect((await api.tasker.listTasks({ namespace: 'flow', name: 'prioritized' })).items.map((t) => t.priority).sort()).toEqual([-100, 0, 100]);
      for (const priority of [101, -101, 1.5, Number.NaN, '5' as unknown as number]) {
        await expect(api.tasker.createTask({ ...flowTask('prioritized'), context: {}, priority })).rejects.toBeInstanceOf(TaskValidationError);
      }
      await api.tasker.cancelTask(a.id);
      await api.tasker.cancelTask(b.id);
      await api.tasker.cancelTask(c.id);
    });

    /**
     * Tasks of mixed priorities all exist before the one worker (one slot) starts: each claim
     * chooses among all that are left. `worker` options vary the case.
     */
    async function startOrder(workerOptions: Record<string, unknown>): Promise<{ order: number[]; priorities: number[] }> {
      const api = await boot(flowProviders(refuse), { worker: { enabled: false } });
      const priorities = [0, -5, 10, 0, 100, -100, 10, 3, 0, -5, 3, 100, 50, 0, 7, -5, 0, 10, 3, 100, 0, -100];
      const created = await api.tasker.createTasks(priorities.map((priority, i) => ({ ...flowTask('prioritized'), context: { i }, priority })));
      expect(created.map((t) => t.priority)).toEqual(priorities);
      const order: number[] = [];
      const worker = await boot(
        flowProviders((ctx: StepContext<any>) => {
          order.push(ctx.task.context.i);
          return { i: ctx.task.context.i };
        }),
        { worker: { concurrency: 1, ...workerOptions } },
      );
      const done = await settled(worker.tasker, created.map((t) => t.id));
      expect(done.map((d) => d.state)).toEqual(priorities.map(() => 'complete'));
      expect(order).toHaveLength(priorities.length);
      await closeAll();
      return { order, priorities };
    }

    function expectPriorityOrder(order: number[], priorities: number[]): void {
      const { unexplained, readinessPicks } = explainOrder(order, priorities);
      expect(unexplained).toEqual([]);
      // One claim in ten may go in readiness order.
      const started = order.map((i) => `#${i}(${priorities[i]})`).join(' ');
      expect({ oneInTenAtMost: readinessPicks <= Math.ceil(priorities.length / 10), readinessPicks, started }).toEqual({
        oneInTenAtMost: true,
        readinessPicks,
        started,
      });
      // Whatever the claim, tasks of equal priority started in creation order.
      for (const p of new Set(priorities)) {
        const same = order.filter((i) => priorities[i] === p);
        expect({ priority: p, order: same }).toEqual({ priority: p, order: [...same].sort((x, y) => x - y) });
      }
    }

    it('one worker with one slot starts higher priority first, equal priority in creation order', async () => {
      const { order, priorities } = await startOrder({});
      expectPriorityOrder(order, priorities);
    });

    it('keeps that order for a backlog that has waited long (every step older than worker.priorityAgingMs)', async () => {
      // priorityAgingMs 1: every ready step counts as having waited long, as a whole backlog does
      // once it is older than the default 10 s. Higher priority must still be claimed first, bar
      // the one claim in ten that goes in readiness order.
      const { order, priorities } = await startOrder({ priorityAgingMs: 1 });
      expectPriorityOrder(order, priorities);
    });

    it('a low-priority task starts while higher-priority tasks keep being created (once aged, within ten claims)', async () => {
      const INITIAL = 10;
      const CAP = 3_000;
      const api = await boot(flowProviders(refuse), { worker: { enabled: false } });
      let lowStarted = false;
      let highsCreated = INITIAL;
      let highsStarted = 0;
      let highsStartedBeforeLow = 0;
      let waitingAtLowStart = -1;
      const highIds: string[] = [];
      const body = async (ctx: StepContext<any>) => {
        if (ctx.task.context.low) {
          lowStarted = true;
          waitingAtLowStart = highsCreated - highsStarted; // high-priority tasks created and not started yet
          return { low: true };
        }
        highsStarted++;
        if (!lowStarted) highsStartedBeforeLow++;
        // Each high-priority task that starts brings another, until the low one started (or the cap).
        if (!lowStarted && highsCreated < CAP) {
          highsCreated++;
          const t = await api.tasker.createTask({ ...flowTask('prioritized'), context: { high: highsCreated }, priority: 100 });
          highIds.push(t.id);
        }
        return { high: ctx.task.context.high };
      };
      // A backlog of high-priority tasks, then the low one, all before the worker starts.
      const first = await api.tasker.createTasks(Array.from({ length: INITIAL }, (_, i) => ({ ...flowTask('prioritized'), context: { high: i + 1 }, priority: 100 })));
      highIds.push(...first.map((t) => t.id));
      const low = await api.tasker.createTask({ ...flowTask('prioritized'), context: { low: true }, priority: -100 });
      // Every step counts as aged at once: one claim in ten takes the oldest ready step, whatever its priority.
      const worker = await boot(flowProviders(body), { worker: { concurrency: 1, priorityAgingMs: 1 } });

      await waitFor('the low-priority task to start, or the cap of high-priority tasks to be reached', () => lowStarted || highsCreated >= CAP, {
        timeoutMs: 60_000,
      });
      expect({ lowStarted, highsCreated, underCap: highsCreated < CAP }).toMatchObject({ lowStarted: true, underCap: true });
      // It started while high-priority tasks were still waiting: not because the queue ran dry.
      expect(waitingAtLowStart).toBeGreaterThan(0);
      // The older high-priority tasks went first (by either rule); then the next claim in readiness order took it.
      expect(highsStartedBeforeLow).toBeGreaterThanOrEqual(INITIAL);
      expect(highsStartedBeforeLow).toBeLessThanOrEqual(INITIAL + 10);
      const all = await settled(worker.tasker, [low.id, ...highIds], 60_000);
      expect(all.filter((d) => d.state !== 'complete')).toEqual([]);
    }, 90_000);
  });

  describe('task concurrency (§9.2)', () => {
    it('holds the tasks of a busy key pending ("concurrency limit…"), runs other keys, and starts the held ones by priority then age as the place frees', async () => {
      const gate = new Latch();
      const app = await boot(
        flowProviders(async (ctx: StepContext<any>) => {
          if (ctx.task.context.gate && ctx.step.name === 'fetch') await gate.promise;
          return { step: ctx.step.name };
        }),
        { worker: { concurrency: 6 } },
      );
      const t1 = await app.tasker.createTask({ ...flowTask('account_sync'), context: { accountId: 'A', gate: true } });
      await waitFor('task 1 (account A) to run fetch', async () => step(await app.tasker.getTask(t1.id), 'fetch').state === 'in_progress');

      const t2 = await app.tasker.createTask({ ...flowTask('account_sync'), context: { accountId: 'A' } });
      const t3 = await app.tasker.createTask({ ...flowTask('account_sync'), context: { accountId: 'B' } });
      const t4 = await app.tasker.createTask({ ...flowTask('account_sync'), context: { accountId: 'C' }, concurrencyKey: 'A' });
      const t5 = await app.tasker.createTask({ ...flowTask('account_sync'), context: { accountId: 'A' }, priority: 50 });
      const t6 = await app.tasker.createTask({ ...flowTask('account_sync'), context: { accountId: 'A' }, concurrencyKey: 'D' });

      // Other keys go on: account B, and account A's task whose concurrencyKey says D.
      expect((await app.tasker.waitForTask(t3.id, { timeoutMs: 20_000 })).state).toBe('complete');
      expect((await app.tasker.waitForTask(t6.id, { timeoutMs: 20_000 })).state).toBe('complete');
      // Key A's others wait, pending, with the reason.
      for (const t of [t2, t4, t5]) {
        await waitFor(`task ${t.id} to be held by the concurrency limit`, async () => {
          const d = await app.tasker.getTask(t.id);
          return d.state === 'pending' && step(d, 'fetch').state === 'pending' && step(d, 'fetch').readiness.reason.startsWith('concurrency limit');
        });
      }
      expect((await app.tasker.getTask(t1.id)).state).toBe('in_progress');

      gate.resolve();
      const done = await settled(app.tasker, [t1, t2, t4, t5].map((t) => t.id));
      expect(done.map((d) => d.state)).toEqual(['complete', 'complete', 'complete', 'complete']);
      // Never two of key A at once, and in claim order as the place freed: priority, then age.
      const report = await limitsOf(app.tasker, [asFlowTask(t1), asFlowTask(t2), asFlowTask(t3), asFlowTask(t4, 'A'), asFlowTask(t5), asFlowTask(t6, 'D')]);
      expect(describeViolations(report)).toEqual([]);
      const starts = await Promise.all([t1, t5, t2, t4].map(async (t) => ({ id: t.id, at: await startedAt(app.tasker, t.id) })));
      expect([...starts].sort((x, y) => x.at - y.at).map((s) => s.id)).toEqual([t1.id, t5.id, t2.id, t4.id]);
      // Being held used no attempt.
      for (const d of done) expect(d.steps.map((s) => s.attempts)).toEqual([1, 1, 1]);
    });

    it('a task type without a key runs at most `limit` tasks at once, whatever their context', async () => {
      const gate = new Latch();
      const app = await boot(
        flowProviders(async (ctx: StepContext<any>) => {
          if (ctx.step.name === 'extract') await gate.promise;
          return {};
        }),
        { worker: { concurrency: 8 } },
      );
      const created = await app.tasker.createTasks(Array.from({ length: 5 }, (_, i) => ({ ...flowTask('nightly_batch'), context: { day: i } })));
      await waitFor('two batches to run and three to be held', async () => {
        const ds = await Promise.all(created.map((t) => app.tasker.getTask(t.id)));
        const running = ds.filter((d) => step(d, 'extract').state === 'in_progress').length;
        const held = ds.filter((d) => d.state === 'pending' && step(d, 'extract').readiness.reason.startsWith('concurrency limit')).length;
        return running === FLOW_LIMITS.nightlyBatch.limit && held === 5 - FLOW_LIMITS.nightlyBatch.limit;
      });
      gate.resolve();
      expect((await settled(app.tasker, created.map((t) => t.id))).map((d) => d.state)).toEqual(created.map(() => 'complete'));
      expect(describeViolations(await limitsOf(app.tasker, created.map((t) => asFlowTask(t))))).toEqual([]);
    });
  });

  describe('step concurrency (§9.2)', () => {
    it('holds a step whose key is full ("concurrency limit…") while the task\'s other steps and other keys go on', async () => {
      const gate = new Latch();
      const app = await boot(
        flowProviders(async (ctx: StepContext<any>) => {
          if (ctx.task.context.gate && ctx.step.name === 'call_crm') await gate.promise;
          return { step: ctx.step.name };
        }),
        { worker: { concurrency: 8 } },
      );
      const [c1, c2] = await app.tasker.createTasks([
        { ...flowTask('crm_sync'), context: { region: 'eu', gate: true } },
        { ...flowTask('crm_sync'), context: { region: 'eu', gate: true } },
      ]);
      await waitFor('two eu calls to run', async () => {
        const ds = await Promise.all([c1, c2].map((t) => app.tasker.getTask(t.id)));
        return ds.every((d) => step(d, 'call_crm').state === 'in_progress');
      });
      const [c3, c4] = await app.tasker.createTasks([
        { ...flowTask('crm_sync'), context: { region: 'eu' } },
        { ...flowTask('crm_sync'), context: { region: 'us' } },
      ]);
      expect((await app.tasker.waitForTask(c4.id, { timeoutMs: 20_000 })).state).toBe('complete');
      await waitFor('the third eu call to be held while its export ran', async () => {
        const d = await app.tasker.getTask(c3.id);
        const call = step(d, 'call_crm');
        return step(d, 'export').state === 'complete' && call.state === 'pending' && call.readiness.reason.startsWith('concurrency limit') && d;
      });
      gate.resolve();
      const done = await settled(app.tasker, [c1, c2, c3].map((t) => t.id));
      expect(done.map((d) => d.state)).toEqual(['complete', 'complete', 'complete']);
      expect(step(done[2], 'call_crm').attempts).toBe(1);
      const report = await limitsOf(app.tasker, [c1, c2, c3, c4].map((t) => asFlowTask(t)));
      expect(describeViolations(report)).toEqual([]);
      expect(report.maxRunning.get('crm_sync.call_crm:eu')).toBe(2);
    });
  });

  describe('rate limits (§9.3)', () => {
    it('holds a step whose window is full ("rate limited…") and starts it once the window allows', async () => {
      const app = await boot(flowProviders(() => ({ ok: true })), { worker: { concurrency: 4 } });
      const created = await app.tasker.createTasks([0, 1, 2].map((n) => ({ ...flowTask('throttled'), context: { n } })));
      const ids = created.map((t) => t.id);
      await waitFor('one call to have run and another to be rate limited', async () => {
        const ds = await Promise.all(ids.map((id) => app.tasker.getTask(id)));
        return (
          ds.some((d) => d.state === 'complete') &&
          ds.some((d) => step(d, 'call').state === 'pending' && step(d, 'call').readiness.reason.startsWith('rate limited'))
        );
      });
      const done = await settled(app.tasker, ids);
      expect(done.map((d) => d.state)).toEqual(['complete', 'complete', 'complete']);
      expect(done.map((d) => step(d, 'call').attempts)).toEqual([1, 1, 1]);
      const report = await limitsOf(app.tasker, created.map((t) => asFlowTask(t)));
      expect(describeViolations(report)).toEqual([]);
      expect(report.starts.map((s) => s.group)).toEqual(['slow_api:', 'slow_api:', 'slow_api:']);
    });
  });

  describe('keys', () => {
    it('concurrent createTasks whose new keys come in opposite orders all succeed (no deadlock on the keys\' first use)', async () => {
      const a = await boot(flowProviders(refuse), { worker: { enabled: false } });
      const b = await boot(flowProviders(refuse), { worker: { enabled: false } });
      const failures: string[] = [];
      for (let round = 0; round < 10; round++) {
        // Fresh keys each round: slot rows (step and task keys) and rate windows made by these very requests.
        const keys = Array.from({ length: 6 }, (_, k) => `r${round}-k${k}`);
        const requests = keys.flatMap((key) => [
          { ...flowTask('crm_sync'), context: { region: key } },
          { ...flowTask('account_sync'), context: { accountId: key } },
          { ...flowTask('payments'), context: { merchantId: key } },
        ]);
        const outcomes = await Promise.allSettled([a.tasker.createTasks(requests), b.tasker.createTasks([...requests].reverse())]);
        for (const o of outcomes) if (o.status === 'rejected') failures.push(`round ${round}: ${(o.reason as Error).message}`);
      }
      expect(failures).toEqual([]);
    });
  });

  describe('bad options fail the boot', () => {
    @TaskHandler({ name: 'zero_step_limit', namespace: 'flow_bad' })
    class ZeroStepLimit {
      @Step({ concurrency: { limit: 0 } })
      run() {}
    }
    @TaskHandler({ name: 'zero_task_limit', namespace: 'flow_bad', concurrency: { key: 'accountId', limit: 0 } })
    class ZeroTaskLimit {
      @Step()
      run() {}
    }
    @TaskHandler({ name: 'zero_rate', namespace: 'flow_bad' })
    class ZeroRate {
      @Step({ rateLimit: { bucket: 'b', limit: 0, periodMs: 1_000 } })
      run() {}
    }
    @TaskHandler({ name: 'zero_period', namespace: 'flow_bad' })
    class ZeroPeriod {
      @Step({ rateLimit: { bucket: 'b', limit: 1, periodMs: 0 } })
      run() {}
    }
    @TaskHandler({ name: 'fraction_limit', namespace: 'flow_bad' })
    class FractionLimit {
      @Step({ concurrency: { key: 'region', limit: 0.5 } })
      run() {}
    }

    async function bootError(metadata: ModuleMetadata): Promise<Error> {
      let moduleRef: TestingModule | undefined;
      let app: INestApplicationContext | undefined;
      try {
        moduleRef = await Test.createTestingModule(metadata).compile();
        app = await moduleRef.init();
      } catch (e) {
        await moduleRef?.close().catch(() => undefined);
        return e as Error;
      }
      await app.close();
      throw new Error('expected the application to refuse to start, but it started');
    }

    it.each([
      ['a step concurrency limit of 0', ZeroStepLimit, /limit/],
      ['a task concurrency limit of 0', ZeroTaskLimit, /limit/],
      ['a rate limit of 0', ZeroRate, /limit/],
      ['a rate period of 0 ms', ZeroPeriod, /periodMs/],
      ['a concurrency limit that is not an integer', FractionLimit, /limit/],
    ])('%s', async (_what, handler, message) => {
      const s = uniqueSchema('flowbad');
      try {
        const err = await bootError({
          imports: [EventEmitterModule.forRoot(), ScheduleModule.forRoot(), TaskerModule.forRoot(testOptions(s))],
          providers: [handler],
        });
        expect(err).toBeInstanceOf(HandlerDefinitionError);
        expect(err.message).toMatch(message);
        expect(err.message).toContain(handler.name);
      } finally {
        await dropSchema(s);
      }
    });
  });
});
