import { TaskerEvents } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { ComplianceExport, TaskerEventLog, WorkflowAlerts } from './events';
import { OnboardingModule } from './getting-started/src/onboarding/onboarding.module';

const ONBOARDING = { name: 'user_onboarding', namespace: 'accounts' };

/** Runs the samples of docs/events.md on the getting-started workflow. */
describe('docs/events.md samples', () => {
  let kit: TaskerTestingApp;
  beforeAll(async () => {
    kit = await createTaskerTestingApp({ imports: [OnboardingModule], providers: [WorkflowAlerts, TaskerEventLog, ComplianceExport] });
  });
  afterAll(() => kit?.close());
  afterEach(() => kit.restoreSteps());

  it('an @OnEvent listener hears a task fail; the any-listener sees every event in order', async () => {
    kit.failStep(ONBOARDING, 'provision_workspace', { permanent: true });
    const log = kit.get(TaskerEventLog);
    const before = log.seen.length;
    const done = await kit.run({ ...ONBOARDING, context: { email: 'x@example.com' } });
    expect(done.state).toBe('error');
    expect(kit.get(WorkflowAlerts).pages).toEqual([`Task ${done.id} (accounts/user_onboarding@1.0.0) needs an operator`]);
    const seen = log.seen.slice(before);
    expect(seen[0]).toBe(TaskerEvents.TASK_CREATED);
    expect(seen).toContain(`${TaskerEvents.STEP_FAILED} provision_workspace`);
    expect(seen.at(-1)).toBe(TaskerEvents.TASK_FAILED);
    expect(seen.filter((e) => e.startsWith(TaskerEvents.STEP_STARTED))).toHaveLength(3); // activate_account never started
  });

  it('the audit trail names every transition and who made it', async () => {
    const done = await kit.run({ ...ONBOARDING, context: { email: 'y@example.com' }, initiator: 'signup-form' });
    const history = await kit.get(ComplianceExport).history(done.id);
    expect(history[0]).toMatch(/ task ∅ → pending by signup-form$/);
    expect(history.at(-1)).toMatch(/ task in_progress → complete by system$/);
    expect(history.filter((l) => l.includes(' create_account '))).toEqual([
      expect.stringMatching(/ create_account pending → in_progress by worker:/),
      expect.stringMatching(/ create_account in_progress → complete by worker:/),
    ]);
    const lines = (await kit.get(ComplianceExport).ndjson(done.id)).trim().split('\n');
    expect(lines).toHaveLength(history.length);
    expect(JSON.parse(lines[0])).toMatchObject({ taskId: done.id, from: null, to: 'pending', actor: 'signup-form' });
  });
});
