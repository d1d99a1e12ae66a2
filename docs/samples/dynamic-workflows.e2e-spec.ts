import { DependsOn, HandlerDefinitionError, InvalidTransitionError, Step, TaskerEvents, TaskHandler, TaskNotFoundError } from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import {
  CardGateway,
  describeDynamicSteps,
  DynamicStepsLog,
  DynamicWorkflowsModule,
  ESignService,
  ESignWebhook,
  ImageService,
  TrialWorkflow,
} from './dynamic-workflows';

const SHIP = { name: 'ship_order', namespace: 'shipping' };
const ALBUM = { name: 'publish_album', namespace: 'media' };
const CONTRACT = { name: 'contract_signing', namespace: 'legal' };
const CHECKOUT = { name: 'checkout', namespace: 'shop' };
const TRIAL = { name: 'trial', namespace: 'accounts' };

/** A promise the test opens when it wants. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Each failure code of dynamic steps, from the step that causes it. */
@TaskHandler({ name: 'mistakes', namespace: 'guide' })
class Mistakes {
  @Step({ map: (ctx) => (ctx.task.context.kind === 'too_large' ? new Array(10_001).fill(0) : []) })
  too_large() {
    return 'never';
  }

  @Step({ map: (ctx) => (ctx.task.context.kind === 'not_array' ? ({ items: [] } as never) : []) })
  not_an_array() {
    return 'never';
  }

  @Step({ runIf: (ctx) => (ctx.task.context.kind === 'maybe' ? ('yes' as never) : true) })
  maybe() {
    return 'ran';
  }

  @Step()
  bad_wait(ctx: StepContext<{ kind: string }>) {
    return ctx.task.context.kind === 'bad_wait' ? ctx.sleep(-1) : null;
  }

  @Step()
  short_wait(ctx: StepContext<{ kind: string }>) {
    return ctx.task.context.kind === 'short_wait' ? ctx.waitForSignal('never_sent', { timeoutMs: 200 }) : null;
  }
}

/** A parent whose child waits for a signal, to show what cancelling the parent does. */
@TaskHandler({ name: 'waiter', namespace: 'guide' })
class Waiter {
  @Step()
  wait(ctx: StepContext) {
    return ctx.waitForSignal('go');
  }
}

@TaskHandler({ name: 'parent_of_waiter', namespace: 'guide' })
class ParentOfWaiter {
  @Step()
  child(ctx: StepContext) {
    return ctx.startChild({ name: 'waiter', namespace: 'guide', context: {} });
  }
}

/** What an instance of a map step receives: its item and index, no results of earlier steps. */
@TaskHandler({ name: 'instance_context', namespace: 'guide' })
class InstanceContext {
  @Step()
  list() {
    return ['x', 'y'];
  }

  @Step({ map: (ctx) => ctx.results['list'] as string[] })
  @DependsOn('list')
  each(ctx: StepContext<Record<string, unknown>, string>) {
    return { item: ctx.item, index: ctx.index, results: ctx.results };
  }
}

/** Runs the samples of docs/dynamic-workflows.md and the dynamic steps part of docs/testing.md. */
describe('docs/dynamic-workflows.md samples', () => {
  let kit: TaskerTestingApp;
  beforeAll(async () => {
    kit = await createTaskerTestingApp({ imports: [DynamicWorkflowsModule], providers: [Mistakes, Waiter, ParentOfWaiter, InstanceContext] });
  });
  afterAll(() => kit?.close());
  afterEach(() => kit.restoreSteps());

  describe('conditions and joins', () => {
    it('a standard order: the courier branch is skipped, the join runs after the post, the courier tracking is skipped with it', async () => {
      const done = await kit.run({ ...SHIP, context: { orderId: 'O-1', express: false } });
      expect(done.state).toBe('complete');
      expect(await describeDynamicSteps(kit.tasker, done.id)).toEqual([
        'quote: complete (done)',
        'book_courier: skipped (condition false)',
        'book_post: complete (done)',
        'print_label: complete (done)',
        'track_courier: skipped (all parents skipped)',
      ]);
      expect(TaskerTestingApp.results(done).print_label).toEqual({ label: 'post-O-1.pdf', parents: ['book_post'] });
      const courier = done.steps.find((s) => s.name === 'book_courier')!;
      expect([courier.attempts, courier.results]).toEqual([0, undefined]); // no attempt, no results

      const skipped = kit.eventsFor(done.id, TaskerEvents.STEP_SKIPPED);
      expect(skipped.map((e) => ['stepName' in e && e.stepName, e.reason])).toEqual([
        ['book_courier', 'condition false'],
        ['track_courier', 'all parents skipped'],
      ]);
      expect(kit.get(DynamicStepsLog).lines).toEqual(expect.arrayContaining(['book_courier skipped: condition false', 'track_courier skipped: all parents skipped']));
      const trail = await kit.tasker.getAuditTrail(done.id);
      expect(trail.filter((e) => e.to === 'skipped').map((e) => [e.stepName, e.from, e.to, e.reason])).toEqual([
        ['book_courier', 'in_progress', 'skipped', 'condition false'],
        ['track_courier', 'pending', 'skipped', 'all parents skipped'],
      ]);
    });

    it('an express order: the post branch is skipped, every other step runs', async () => {
      const done = await kit.run({ ...SHIP, context: { orderId: 'O-2', express: true } });
      expect(done.steps.map((s) => [s.name, s.state])).toEqual([
        ['quote', 'complete'],
        ['book_courier', 'complete'],
        ['book_post', 'skipped'],
        ['print_label', 'complete'],
        ['track_courier', 'complete'],
      ]);
      expect(TaskerTestingApp.results(done).print_label).toEqual({ label: 'courier-O-2.pdf', parents: ['book_courier'] });
    });
  });

  describe('map steps', () => {
    it('one instance per photo, at most maxParallel at once, the others wait for a place; results in item order', async () => {
      const images = kit.get(ImageService);
      const held = gate();
      images.hold = held.promise;
      try {
        const task = await kit.tasker.createTask({ ...ALBUM, context: { albumId: 'summer' } });
        await kit.waitForStep(task.id, 'resize[0]', 'in_progress');
        await kit.waitForStep(task.id, 'resize[1]', 'in_progress');
        expect(await describeDynamicSteps(kit.tasker, task.id)).toEqual([
          'list_photos: complete (done)',
          'resize: waiting (waiting for 6 of 6 instances), instances 0/6 done, 0 failed',
          'resize[0]: in_progress (running)',
          'resize[1]: in_progress (running)',
          'resize[2]: pending (waiting for a free place (maxParallel 2))',
          'resize[3]: pending (waiting for a free place (maxParallel 2))',
          'resize[4]: pending (waiting for a free place (maxParallel 2))',
          'resize[5]: pending (waiting for a free place (maxParallel 2))',
          'publish: pending (waiting_for_dependencies)',
        ]);
        const instance = (await kit.tasker.getTask(task.id)).steps.find((s) => s.name === 'resize[4]');
        expect(instance).toMatchObject({ mapOf: 'resize', mapIndex: 4, retryLimit: 4 });
        held.open();
        const done = await kit.tasker.waitForTask(task.id);
        expect(done.state).toBe('complete');
        const thumbs = ['a', 'b', 'c', 'd', 'e', 'f'].map((p) => `summer/${p}.thumb.jpg`);
        expect(TaskerTestingApp.results(done)).toMatchObject({ resize: thumbs, publish: { albumId: 'summer', cover: 'summer/a.thumb.jpg', count: 6 } });
        expect(done.steps.find((s) => s.name === 'resize')).toMatchObject({ state: 'complete', instances: { total: 6, done: 6, running: 0, failed: 0 } });
        expect(kit.eventsFor(done.id, TaskerEvents.STEP_WAITING).map((e) => e.reason)).toEqual(['expanded into 6 instances']);

        // From the audit trail (commit order): never more than 2 instances in progress at once.
        const trail = await kit.tasker.getAuditTrail(done.id);
        let running = 0;
        let most = 0;
        for (const e of trail.filter((x) => x.stepName?.startsWith('resize['))) {
          if (e.to === 'in_progress') most = Math.max(most, ++running);
          if (e.from === 'in_progress') running--;
        }
        expect(most).toBe(2);
      } finally {
        images.hold = undefined;
        held.open();
      }
    });

    it('a failed instance fails the map step and the task; retryTask runs only that instance again', async () => {
      // #region test-map-retry
      const images = kit.get(ImageService);
      images.broken.add('winter/c.jpg'); // resize[2] fails with a PermanentError
      const failed = await kit.run({ ...ALBUM, context: { albumId: 'winter' } });

      expect(failed.state).toBe('error');
      const resize = failed.steps.find((s) => s.name === 'resize')!;
      expect(resize).toMatchObject({ state: 'error', instances: { total: 6, done: 5, running: 0, failed: 1 } });
      expect(failed.steps.find((s) => s.name === 'resize[2]')).toMatchObject({ state: 'error', lastError: { code: 'CORRUPT_IMAGE' } });

      images.broken.delete('winter/c.jpg'); // "the photo was uploaded again"
      await kit.tasker.retryTask(failed.id, { actor: 'ops', reason: 'photo re-uploaded' });
      const done = await kit.tasker.waitForTask(failed.id);
      expect(done.state).toBe('complete');
      expect(images.calls.filter((p) => p.startsWith('winter/'))).toEqual([
        ...['a', 'b', 'c', 'd', 'e', 'f'].map((p) => `winter/${p}.jpg`),
        'winter/c.jpg', // only the failed instance ran again
      ]);
      // #endregion
      expect(resize.readiness.reason).toBe('waiting for 1 of 6 instances (1 failed)');
      expect(await describeDynamicSteps(kit.tasker, done.id)).toContain('resize: complete (done), instances 6/6 done, 0 failed');
    });

    it('an empty list completes the map step at once with []', async () => {
      const images = kit.get(ImageService);
      const list = jest.spyOn(images, 'list').mockResolvedValueOnce([]);
      try {
        const done = await kit.run({ ...ALBUM, context: { albumId: 'empty' } });
        expect(done.state).toBe('complete');
        expect(TaskerTestingApp.results(done)).toMatchObject({ resize: [], publish: { albumId: 'empty', cover: null, count: 0 } });
        expect(done.steps.map((s) => s.name)).toEqual(['list_photos', 'resize', 'publish']);
      } finally {
        list.mockRestore();
      }
    });

    it("an instance gets its item and index; its ctx.results is empty", async () => {
      const done = await kit.run({ name: 'instance_context', namespace: 'guide', context: {} });
      expect(TaskerTestingApp.results(done).each).toEqual([
        { item: 'x', index: 0, results: {} },
        { item: 'y', index: 1, results: {} },
      ]);
    });

    it('failStep on a map step fails the attempts of its instances (counted across instances)', async () => {
      const injected = kit.failStep(ALBUM, 'resize', { times: 1 });
      const done = await kit.run({ ...ALBUM, context: { albumId: 'flaky' } });
      expect(done.state).toBe('complete');
      expect(injected.failures()).toBe(1);
      const attempts = done.steps.filter((s) => s.mapOf === 'resize').map((s) => s.attempts);
      expect(attempts.sort()).toEqual([1, 1, 1, 1, 1, 2]);
    });
  });

  describe('signals', () => {
    it('the step waits for the signal; the webhook sends it; the signer is the actor of the completion', async () => {
      // #region test-signal
      const task = await kit.tasker.createTask({ ...CONTRACT, context: { contractId: 'C-1', signer: 'ada' } });

      // Wait until the step waits (no fixed sleep), then look at it.
      const waiting = await kit.waitForStep(task.id, 'await_signature', 'waiting');
      expect(waiting.readiness.reason).toMatch(/^waiting for signal "signed" until 20\d\d-/);
      expect(waiting.waitingFor).toMatchObject({ kind: 'signal', name: 'signed' });

      await kit.signal(task.id, 'signed', { signedAt: '2024-05-01' }, { actor: 'signer:ada' });
      const done = await kit.tasker.waitForTask(task.id);
      expect(done.state).toBe('complete');
      expect(TaskerTestingApp.results(done).archive).toEqual({ archived: 'C-1 signed 2024-05-01' });
      // #endregion

      const trail = await kit.tasker.getAuditTrail(done.id);
      expect(trail.filter((e) => e.stepName === 'await_signature').map((e) => [e.from, e.to, e.actor?.startsWith('worker:') ? 'worker' : e.actor, e.reason])).toEqual([
        ['pending', 'in_progress', 'worker', undefined],
        ['in_progress', 'waiting', 'worker', 'waiting for signal "signed"'],
        ['waiting', 'complete', 'signer:ada', 'signal "signed"'],
      ]);
      const received = kit.eventsFor(done.id, TaskerEvents.SIGNAL_RECEIVED);
      expect(received).toEqual([expect.objectContaining({ signalName: 'signed', actor: 'signer:ada' })]);
      // A wait taken back is not a second start.
      expect(kit.eventsFor(done.id, TaskerEvents.STEP_STARTED).filter((e) => 'stepName' in e && e.stepName === 'await_signature')).toHaveLength(1);
    });

    it('through the webhook service; a second signal, or one to an unknown task, is refused', async () => {
      const task = await kit.tasker.createTask({ ...CONTRACT, context: { contractId: 'C-2', signer: 'bob' } });
      await kit.waitForStep(task.id, 'await_signature', 'waiting');
      const reference = kit.get(ESignService).sent.find((s) => s.contractId === 'C-2')!.reference;
      expect(reference).toBe(task.id);
      await kit.get(ESignWebhook).onSigned({ reference, signer: 'bob', signedAt: '2024-05-02' });
      const done = await kit.tasker.waitForTask(task.id);
      expect(TaskerTestingApp.results(done).await_signature).toEqual({ signedAt: '2024-05-02' });
      const completion = (await kit.tasker.getAuditTrail(done.id)).find((e) => e.stepName === 'await_signature' && e.to === 'complete');
      expect(completion).toMatchObject({ actor: 'signer:bob', reason: 'signal "signed": e-signature webhook' });
      expect(kit.get(DynamicStepsLog).lines).toEqual(expect.arrayContaining(['await_signature waiting: waiting for signal "signed"', 'signal signed from signer:bob']));

      await expect(kit.signal(task.id, 'signed', {})).rejects.toBeInstanceOf(InvalidTransitionError);
      await expect(kit.signal('999999', 'signed', {})).rejects.toBeInstanceOf(TaskNotFoundError);
    });

    it('a signal sent before the step waits is kept and delivered when it does', async () => {
      const esign = kit.get(ESignService);
      const held = gate();
      esign.hold = held.promise;
      try {
        const task = await kit.tasker.createTask({ ...CONTRACT, context: { contractId: 'C-3', signer: 'cy' } });
        await kit.waitForStep(task.id, 'send_contract', 'in_progress'); // held: nothing waits for "signed" yet
        await kit.signal(task.id, 'signed', { signedAt: 'early' }, { actor: 'signer:cy' });
        expect((await kit.tasker.getTask(task.id)).steps.find((s) => s.name === 'await_signature')?.state).toBe('pending');
        held.open();
        const done = await kit.tasker.waitForTask(task.id);
        expect(done.state).toBe('complete');
        expect(TaskerTestingApp.results(done).await_signature).toEqual({ signedAt: 'early' });
        // The same trail as for a signal that came later: the step waits, then the kept signal completes it.
        const trail = await kit.tasker.getAuditTrail(done.id);
        expect(trail.filter((e) => e.stepName === 'await_signature').map((e) => [e.from, e.to, e.reason])).toEqual([
          ['pending', 'in_progress', undefined],
          ['in_progress', 'waiting', 'waiting for signal "signed"'],
          ['waiting', 'complete', 'signal "signed"'],
        ]);
      } finally {
        esign.hold = undefined;
        held.open();
      }
    });

    it('an operator can resolve a waiting step instead of its signal', async () => {
      const task = await kit.tasker.createTask({ ...CONTRACT, context: { contractId: 'C-4', signer: 'dee' } });
      await kit.waitForStep(task.id, 'await_signature', 'waiting');
      await kit.tasker.resolveStep(task.id, 'await_signature', { results: { signedAt: 'on paper' }, actor: 'ops:eve', reason: 'signed on paper' });
      const done = await kit.tasker.waitForTask(task.id);
      expect(done.state).toBe('complete');
      expect(TaskerTestingApp.results(done).archive).toEqual({ archived: 'C-4 signed on paper' });
    });
  });

  describe('child tasks', () => {
    it('the parent step completes with the child’s id and results; the child names its parent', async () => {
      // #region test-child
      const done = await kit.run({ ...CHECKOUT, context: { orderId: 'S-1', amountCents: 1_500 } });
      expect(done.state).toBe('complete');

      const [child] = await kit.childTasks(done.id); // tasks started by ctx.startChild, oldest first
      expect(child).toMatchObject({ namespace: 'payments', name: 'charge', state: 'complete', parentTaskId: done.id, parentStepName: 'pay' });
      expect(TaskerTestingApp.results(done).pay).toEqual({ taskId: child.id, results: { capture: { captureId: 'cap-S-1', amountCents: 1_500 } } });
      // #endregion
      expect(TaskerTestingApp.results(done).confirm).toEqual({ orderId: 'S-1', chargeTask: child.id, captureId: 'cap-S-1' });
      expect(kit.eventsFor(done.id, TaskerEvents.STEP_WAITING).map((e) => e.reason)).toEqual([`waiting for child task ${child.id}`]);
    });

    it('a failed child fails the parent step with CHILD_TASK_FAILED; retrying the parent retries the same child', async () => {
      const gateway = kit.get(CardGateway);
      gateway.declined.add('S-2');
      const failed = await kit.run({ ...CHECKOUT, context: { orderId: 'S-2', amountCents: 900 } });
      expect(failed.state).toBe('error');
      const [child] = await kit.childTasks(failed.id);
      expect(child.state).toBe('error');
      expect(await describeDynamicSteps(kit.tasker, failed.id)).toEqual(['pay: error (attempts_exhausted), CHILD_TASK_FAILED', 'confirm: pending (waiting_for_dependencies)']);
      expect(failed.steps[0]).toMatchObject({ attempts: 1, childTaskId: child.id, lastError: { message: `Child task ${child.id} ended in error.` } });
      const trail = await kit.tasker.getAuditTrail(failed.id);
      expect(trail.filter((e) => e.stepName === 'pay').map((e) => [e.from, e.to, e.reason, e.error?.code])).toEqual([
        ['pending', 'in_progress', undefined, undefined],
        ['in_progress', 'waiting', `waiting for child task ${child.id}`, undefined],
        ['waiting', 'in_progress', undefined, undefined],
        ['in_progress', 'error', undefined, 'CHILD_TASK_FAILED'],
      ]);

      gateway.declined.delete('S-2');
      await kit.tasker.retryTask(failed.id, { actor: 'ops', reason: 'card updated' });
      const done = await kit.tasker.waitForTask(failed.id);
      expect(done.state).toBe('complete');
      expect((await kit.childTasks(done.id)).map((c) => [c.id, c.state])).toEqual([[child.id, 'complete']]);
    });

    it('cancelling the parent cancels its unfinished children', async () => {
      const parent = await kit.tasker.createTask({ name: 'parent_of_waiter', namespace: 'guide', context: {} });
      const step = await kit.waitForStep(parent.id, 'child', 'waiting');
      expect(step.waitingFor?.kind).toBe('child');
      const childId = step.waitingFor?.kind === 'child' ? step.waitingFor.taskId : '';
      await kit.waitForStep(childId, 'wait', 'waiting');
      expect(step.readiness.reason).toBe(`waiting for child task ${childId}`);
      await kit.tasker.cancelTask(parent.id, { actor: 'ops', reason: 'order withdrawn' });
      expect((await kit.tasker.getTask(childId)).state).toBe('cancelled');
    });
  });

  describe('sleep', () => {
    it('the kit skips sleeps like retry delays: the task completes at once', async () => {
      // #region test-sleep
      const done = await kit.run({ ...TRIAL, context: { accountId: 'acc-1' } }); // sleeps 14 days, not in a test
      expect(done.state).toBe('complete');
      expect(TaskerTestingApp.results(done).send_reminder).toEqual({ reminded: 'acc-1' });
      expect(kit.eventsFor(done.id, TaskerEvents.STEP_WAITING).map((e) => e.reason)).toEqual([expect.stringMatching(/^sleeping until /)]);
      // #endregion
    });

    it("with retryDelays: 'real' the step sleeps, with its wake-up time", async () => {
      const real = await createTaskerTestingApp({ providers: [TrialWorkflow], tasker: { retryDelays: 'real' } });
      try {
        const task = await real.tasker.createTask({ ...TRIAL, context: { accountId: 'acc-2' } });
        const step = await real.waitForStep(task.id, 'two_weeks', 'waiting');
        expect(step.waitingFor?.kind).toBe('sleep');
        const until = step.waitingFor?.kind === 'sleep' ? new Date(step.waitingFor.until).getTime() : 0;
        expect(until - Date.now()).toBeGreaterThan(13 * 86_400_000);
        expect(step.readiness.reason).toBe(`sleeping until ${new Date(until).toISOString()}`);
        expect((await real.tasker.cancelTask(task.id)).state).toBe('cancelled');
      } finally {
        await real.close();
      }
    });
  });

  describe('failure codes', () => {
    const failure = async (kind: string, step: string) => {
      const done = await kit.run({ name: 'mistakes', namespace: 'guide', context: { kind } });
      expect(done.state).toBe('error');
      const s = done.steps.find((x) => x.name === step)!;
      expect(s.attempts).toBe(1); // none of these is retried
      return s.lastError;
    };

    it('MAP_TOO_LARGE, MAP_INVALID, RUN_IF_INVALID, INVALID_WAIT, WAIT_TIMEOUT', async () => {
      expect(await failure('too_large', 'too_large')).toMatchObject({ code: 'MAP_TOO_LARGE', message: 'map returned 10001 items; a map step takes at most 10000' });
      expect(await failure('not_array', 'not_an_array')).toMatchObject({ code: 'MAP_INVALID', message: 'map must return an array of items, got an object' });
      expect(await failure('maybe', 'maybe')).toMatchObject({ code: 'RUN_IF_INVALID', message: 'runIf must return true or false, got "yes"' });
      expect(await failure('bad_wait', 'bad_wait')).toMatchObject({ code: 'INVALID_WAIT', message: 'sleep needs a number of milliseconds from 0 to 100 years, got -1' });
      expect(await failure('short_wait', 'short_wait')).toMatchObject({ code: 'WAIT_TIMEOUT', message: 'No signal "never_sent" arrived within 200 ms.' });
    });

    it('a bad option stops the boot', async () => {
      @TaskHandler({ name: 'bad_options', namespace: 'guide' })
      class BadOptions {
        @Step({ maxParallel: 5 })
        lonely() {
          return 1;
        }
      }
      const error = await createTaskerTestingApp({ providers: [BadOptions] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HandlerDefinitionError);
      expect((error as Error).message).toContain("maxParallel needs map (it caps how many of a map step's instances run at once)");
    });
  });
});
