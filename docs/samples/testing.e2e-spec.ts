/** The samples of docs/testing.md, on the getting-started workflow (user_onboarding). */
import { StepFailedPayload, TaskerEvents } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmailService } from './getting-started/src/onboarding/onboarding.services';
import { OnboardingModule } from './getting-started/src/onboarding/onboarding.module';

const ONBOARDING = { name: 'user_onboarding', namespace: 'accounts' };

describe('the testing kit', () => {
  // #region boot
  let kit: TaskerTestingApp;

  beforeAll(async () => {
    kit = await createTaskerTestingApp({
      imports: [OnboardingModule], // your feature module(s): handlers and what they inject
      providers: [], // or handler classes and services directly
      tasker: { defaults: { retryLimit: 3 } }, // TaskerModule options over the kit's test defaults
    });
  });
  afterAll(() => kit?.close()); // closes the app and drops its schema
  afterEach(() => kit.restoreSteps()); // undoes every failStep
  // #endregion

  it('runs a task and asserts on results, order and events', async () => {
    // #region run
    const done = await kit.run({ ...ONBOARDING, context: { email: 'ada@example.com' } });

    expect(done.state).toBe('complete');
    expect(TaskerTestingApp.results(done)).toMatchObject({ create_account: { accountId: 'acc_ada' } });
    expect(done.steps.map((s) => [s.name, s.attempts])).toEqual([
      ['create_account', 1],
      ['send_welcome_email', 1],
      ['provision_workspace', 1],
      ['activate_account', 1],
    ]);
    // #endregion

    // #region order
    const order = await kit.completionOrder(done.id); // step names, in the order they completed
    expect(order[0]).toBe('create_account');
    expect(order.slice(1, 3).sort()).toEqual(['provision_workspace', 'send_welcome_email']); // either order
    expect(order[3]).toBe('activate_account');

    // Parallelism, from the audit trail (commit order), not from timing: both branches were
    // running before either finished.
    const trail = await kit.tasker.getAuditTrail(done.id);
    const at = (step: string, to: string) => trail.findIndex((e) => e.stepName === step && e.to === to);
    const started = ['send_welcome_email', 'provision_workspace'].map((s) => at(s, 'in_progress'));
    const finished = ['send_welcome_email', 'provision_workspace'].map((s) => at(s, 'complete'));
    expect(Math.max(...started)).toBeLessThan(Math.min(...finished));
    // #endregion

    // #region events
    const events = kit.eventsFor(done.id).map((e) => e.event); // this task's events, in emission order
    expect(events[0]).toBe(TaskerEvents.TASK_CREATED);
    expect(events.at(-1)).toBe(TaskerEvents.TASK_COMPLETED);
    expect(kit.eventsFor(done.id, TaskerEvents.STEP_COMPLETED)).toHaveLength(4);
    // #endregion
  });

  it('makes a step fail N times, permanently, or with your error', async () => {
    // #region fail-step
    // The next 2 attempts of send_welcome_email throw; the 3rd runs the real method.
    const injected = kit.failStep(ONBOARDING, 'send_welcome_email', { times: 2 });
    const retried = await kit.run({ ...ONBOARDING, context: { email: 'bob@example.com' } });
    expect(retried.state).toBe('complete');
    expect(injected.failures()).toBe(2);

    // Every attempt throws a PermanentError (code INJECTED): one attempt, then the task is in error.
    kit.restoreSteps();
    kit.failStep(ONBOARDING, 'provision_workspace', { permanent: true });
    const failed = await kit.run({ ...ONBOARDING, context: { email: 'cy@example.com' } });
    expect(failed.state).toBe('error');
    expect(failed.steps[2].lastError).toMatchObject({ name: 'PermanentError', code: 'INJECTED' });

    // Your own error (a value, or a factory for a fresh one each attempt): here a connection reset, 3 times.
    kit.restoreSteps();
    kit.failStep(ONBOARDING, 'send_welcome_email', { times: 3, error: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    const exhausted = await kit.run({ ...ONBOARDING, context: { email: 'dee@example.com' } });
    expect(exhausted.steps[1]).toMatchObject({ state: 'complete', attempts: 4 }); // retryLimit 5
    const failures = kit.eventsFor(exhausted.id, TaskerEvents.STEP_FAILED) as StepFailedPayload[];
    expect(failures.map((e) => [e.error.code, e.willRetry])).toEqual([
      ['ECONNRESET', true],
      ['ECONNRESET', true],
      ['ECONNRESET', true],
    ]);
    // #endregion
  });

  it('plays the operator: retries the task after a fix', async () => {
    // #region operator
    kit.failStep(ONBOARDING, 'provision_workspace', { permanent: true });
    const failed = await kit.run({ ...ONBOARDING, context: { email: 'eve@example.com' } });
    expect(failed.state).toBe('error');

    kit.restoreSteps(); // "the bug is fixed"
    await kit.tasker.retryTask(failed.id, { actor: 'test', reason: 'fixed' });
    const done = await kit.tasker.waitForTask(failed.id);
    expect(done.state).toBe('complete');
    expect(done.steps.find((s) => s.name === 'create_account')?.attempts).toBe(1); // not run again
    // #endregion
  });

  it('replaces a provider of your module', async () => {
    // #region override
    const flakyEmail = {
      calls: 0,
      async sendWelcome(email: string) {
        if (++this.calls < 3) throw new Error('provider unavailable');
        return { messageId: `fake_${email}` };
      },
    };
    const other = await createTaskerTestingApp({
      imports: [OnboardingModule],
      configure: (builder) => builder.overrideProvider(EmailService).useValue(flakyEmail),
    });
    try {
      const done = await other.run({ ...ONBOARDING, context: { email: 'fay@example.com' } });
      expect(TaskerTestingApp.results(done).send_welcome_email).toEqual({ messageId: 'fake_fay@example.com' });
      expect(flakyEmail.calls).toBe(3);
    } finally {
      await other.close();
    }
    // #endregion
  });
});

describe('real retry delays, an HTTP fake, a second process', () => {
  it('waits for real backoff when asked to', async () => {
    // #region real-delays
    const kit = await createTaskerTestingApp({
      imports: [OnboardingModule],
      tasker: { retryDelays: 'real' }, // the kit's default is 'skip': retry at once
    });
    try {
      kit.failStep(ONBOARDING, 'send_welcome_email', { times: 1 });
      const done = await kit.run({ ...ONBOARDING, context: { email: 'gus@example.com' } });
      const [failed] = kit.eventsFor(done.id, TaskerEvents.STEP_FAILED) as StepFailedPayload[];
      const delay = failed.nextRetryAt!.getTime() - failed.occurredAt.getTime();
      expect(delay).toBeGreaterThan(500); // backoff baseMs 1000, up to 20% less at random
      expect(delay).toBeLessThan(1_500);
    } finally {
      await kit.close();
    }
    // #endregion
  });

  it('fakes an HTTP API with node:http', async () => {
    // #region http-fake
    const answers: { status: number; headers?: Record<string, string>; body: string }[] = [
      { status: 429, headers: { 'retry-after': '30' }, body: 'slow down' },
      { status: 200, headers: { 'content-type': 'application/json' }, body: '{"messageId":"m-1"}' },
    ];
    const server: Server = createServer((req, res) => {
      const a = answers.shift() ?? { status: 500, body: 'unexpected call' };
      res.writeHead(a.status, a.headers).end(a.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Point your HTTP client's configuration at `url`, e.g. with
    // configure: (b) => b.overrideProvider(EmailApiConfig).useValue({ baseUrl: url })
    // #endregion
    try {
      const res = await fetch(`${url}/send`, { method: 'POST' });
      expect(res.status).toBe(429);
      expect(answers).toHaveLength(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('runs a second process on the same schema', async () => {
    // #region second-process
    const api = await createTaskerTestingApp({ tasker: { worker: { enabled: false } } }); // creates tasks, runs none
    const worker = await createTaskerTestingApp({ imports: [OnboardingModule], tasker: { schema: api.schema } });
    try {
      const done = await api.run({ ...ONBOARDING, context: { email: 'hal@example.com' } });
      expect(done.state).toBe('complete'); // run by the worker app
    } finally {
      await worker.close(); // a given schema is left in place...
      await api.close(); // ...and dropped by the app that created it
    }
    // #endregion
  });
});
