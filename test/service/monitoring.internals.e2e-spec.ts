// Internals: TaskerWorker's owner id, the id listWorkers must report for this process's worker.
import { TaskerWorker } from '../../libs/tasker/src/orchestration/tasker.worker';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';

/** What operators and metrics read through TaskerService: task types, workers, counts, health. */
describe('monitoring through TaskerService', () => {
  const schema = uniqueSchema();
  let worker: TestApp;
  let apiOnly: TestApp;
  beforeAll(async () => {
    worker = await startApp(schema, [LinearWorkflow]);
    apiOnly = await startApp(schema, [], { worker: { enabled: false } });
  });
  afterAll(async () => {
    await apiOnly?.close();
    await worker?.close();
    await dropSchema(schema);
  });

  it('lists task types recorded by another process, with their graph', async () => {
    const types = await apiOnly.tasker.listTaskTypes();
    expect(types).toEqual([
      expect.objectContaining({
        namespace: 'scenarios',
        name: 'linear',
        version: '1.0.0',
        steps: [
          expect.objectContaining({ name: 'step_1', dependsOn: [], retryLimit: 3, retryable: true }),
          expect.objectContaining({ name: 'step_2', dependsOn: ['step_1'] }),
          expect.objectContaining({ name: 'step_3', dependsOn: ['step_2'] }),
          expect.objectContaining({ name: 'step_4', dependsOn: ['step_3'] }),
        ],
      }),
    ]);
    expect(await apiOnly.tasker.listTaskTypes({ namespace: 'nope' })).toEqual([]);
  });

  it('sees the worker alive, counts tasks and steps by state, and reports health', async () => {
    const workers = await apiOnly.tasker.listWorkers();
    expect(workers.map((w) => w.id)).toEqual([worker.get(TaskerWorker).owner]);
    expect(workers[0]).toMatchObject({ pid: process.pid, concurrency: 10, taskTypes: ['scenarios/linear@1.0.0'] });

    const before = await apiOnly.tasker.stats();
    const task = await apiOnly.tasker.createTask({ name: 'linear', namespace: 'scenarios', context: { x: 6 } });
    await apiOnly.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
    const after = await apiOnly.tasker.stats();
    expect(after.tasks.complete).toBe(before.tasks.complete + 1);
    expect(after.steps.complete).toBe(before.steps.complete + 4);
    expect(after.workersAlive).toBe(1);
    expect(Object.keys(after.tasks).sort()).toEqual(['cancelled', 'complete', 'error', 'in_progress', 'pending', 'resolved_manually']);

    expect(await apiOnly.tasker.health()).toEqual({ database: 'up', pendingMigrations: [] });
  });

  it('a worker that stops cleanly leaves the workers table', async () => {
    const other = await startApp(schema, [LinearWorkflow]);
    const id = other.get(TaskerWorker).owner;
    expect((await apiOnly.tasker.listWorkers()).map((w) => w.id)).toContain(id);
    await other.close();
    expect((await apiOnly.tasker.listWorkers()).map((w) => w.id)).not.toContain(id);
  });
});
