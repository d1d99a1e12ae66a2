import { Logger } from '@nestjs/common';
import { Step, StepContext, TaskHandler } from 'nestjs-tasker';
import { dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { waitFor } from '../support/wait';

@TaskHandler({ name: 'crunch', namespace: 'stall', version: '1.0.0' })
class CrunchWorkflow {
  /** CPU-bound work done on the event loop: nothing else of the process runs meanwhile. */
  @Step()
  spin(ctx: StepContext<{ ms: number }>) {
    const until = performance.now() + ctx.task.context.ms;
    let n = 0;
    while (performance.now() < until) n++;
    return n > 0;
  }
}

/**
 * A step that blocks the event loop stalls its worker (lease renewals included): the worker notices
 * the stall and names the step that ran, with what to do about it.
 */
describe('a step that blocks the event loop', () => {
  const schema = uniqueSchema('loop_stall');
  let app: TestApp;
  const warn = jest.spyOn(Logger.prototype, 'warn');

  beforeAll(async () => {
    // Stalls of a fifth of the lease (400 ms) or more are reported.
    app = await startApp(schema, [CrunchWorkflow], { worker: { leaseMs: 2_000 } });
  });
  afterAll(async () => {
    warn.mockRestore();
    await app?.close();
    await dropSchema(schema);
  });

  it('is reported by a warning that names the step and the remedy', async () => {
    const task = await app.tasker.createTask({ name: 'crunch', namespace: 'stall', context: { ms: 1_000 } });
    expect((await app.tasker.waitForTask(task.id, { timeoutMs: 20_000 })).state).toBe('complete');
    const line = await waitFor('the stall warning', () =>
      warn.mock.calls.map((c) => String(c[0])).find((m) => m.includes('event loop was blocked') && m.includes(`task ${task.id}`)),
    );
    expect(line).toContain('stall/crunch@1.0.0 step spin');
    expect(line).toContain('worker_threads');
    expect(line).toContain('worker.leaseMs');
  });
});
