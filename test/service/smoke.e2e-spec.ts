import { dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { LinearWorkflow } from '../fixtures/linear.workflow';

describe('smoke', () => {
  const schema = uniqueSchema();
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(schema, [LinearWorkflow]);
  });
  afterAll(async () => {
    await t?.close();
    await dropSchema(schema);
  });

  it('runs the linear workflow to 69', async () => {
    const task = await t.tasker.createTask({ name: 'linear', namespace: 'scenarios', context: { x: 6 } });
    const done = await t.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect(done.steps.find((s) => s.name === 'step_4')?.results).toBe(69);
  });
});
