// #region test
import { TaskerEvents } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { OnboardingModule } from '../src/onboarding/onboarding.module';

const ONBOARDING = { name: 'user_onboarding', namespace: 'accounts' };

describe('user onboarding', () => {
  let kit: TaskerTestingApp;

  // Tasker + your module on a throwaway schema (DATABASE_URL, or an embedded Postgres).
  beforeAll(async () => {
    kit = await createTaskerTestingApp({ imports: [OnboardingModule] });
  });
  afterAll(() => kit?.close()); // drops the schema
  afterEach(() => kit.restoreSteps()); // undoes failStep

  it('runs every step and returns their results', async () => {
    const done = await kit.run({ ...ONBOARDING, context: { email: 'ada@example.com' } });

    expect(done.state).toBe('complete');
    expect(TaskerTestingApp.results(done)).toEqual({
      create_account: { accountId: 'acc_ada' },
      send_welcome_email: { messageId: 'msg_ada@example.com' },
      provision_workspace: { workspaceId: 'ws_acc_ada' },
      activate_account: { accountId: 'acc_ada', active: true },
    });
    const order = await kit.completionOrder(done.id);
    expect(order[0]).toBe('create_account');
    expect(order[3]).toBe('activate_account');
  });

  it('retries the flaky e-mail step until it works', async () => {
    kit.failStep(ONBOARDING, 'send_welcome_email', { times: 2 }); // the next 2 attempts throw

    const done = await kit.run({ ...ONBOARDING, context: { email: 'bob@example.com' } });

    expect(done.state).toBe('complete');
    const email = done.steps.find((s) => s.name === 'send_welcome_email')!;
    expect(email.attempts).toBe(3); // the kit skips the 1 s and 2 s backoff waits
    const failures = kit.eventsFor(done.id, TaskerEvents.STEP_FAILED);
    expect(failures.map((e) => 'willRetry' in e && e.willRetry)).toEqual([true, true]);
  });

  it('gives up after 5 attempts; the parallel branch still finishes', async () => {
    kit.failStep(ONBOARDING, 'send_welcome_email', { times: 5 });

    const done = await kit.run({ ...ONBOARDING, context: { email: 'eve@example.com' } });

    expect(done.state).toBe('error');
    const states = Object.fromEntries(done.steps.map((s) => [s.name, s.state]));
    expect(states).toEqual({
      create_account: 'complete',
      send_welcome_email: 'error',
      provision_workspace: 'complete',
      activate_account: 'pending', // never ran
    });
  });
});
// #endregion
