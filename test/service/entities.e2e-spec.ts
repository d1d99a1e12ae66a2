import { DataSource } from 'typeorm';
import { taskerEntities } from 'nestjs-tasker';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { databaseUrl, dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';

/** The exported entity schemas map Tasker's real tables: an app can read them through TypeORM. */
describe('taskerEntities', () => {
  const schema = uniqueSchema();
  let t: TestApp;
  let ds: DataSource;
  beforeAll(async () => {
    t = await startApp(schema, [LinearWorkflow]);
    ds = new DataSource({ type: 'postgres', url: databaseUrl(), entities: Object.values(taskerEntities(schema)) });
    await ds.initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await t?.close();
    await dropSchema(schema);
  });

  it('reads a finished task, its steps, edges and history', async () => {
    const created = await t.tasker.createTask({ name: 'linear', namespace: 'scenarios', context: { x: 6 }, tags: ['e'] });
    await t.tasker.waitForTask(created.id, { timeoutMs: 20_000 });
    const e = taskerEntities(schema);

    const task = await ds.getRepository(e.Task).findOneByOrFail({ id: created.id });
    expect(task).toMatchObject({ name: 'linear', namespace: 'scenarios', state: 'complete', tags: ['e'], stepsTotal: 4, stepsDone: 4, stepsFailed: 0 });
    expect(task.context).toEqual({ x: 6 });

    const steps = await ds.getRepository(e.WorkflowStep).find({ where: { taskId: created.id }, order: { position: 'ASC' } });
    expect(steps.map((s) => [s.name, s.state, s.results, s.attempts])).toEqual([
      ['step_1', 'complete', 36, 1],
      ['step_2', 'complete', 46, 1],
      ['step_3', 'complete', 138, 1],
      ['step_4', 'complete', 69, 1],
    ]);
    expect(await ds.getRepository(e.WorkflowStepEdge).countBy({ taskId: created.id })).toBe(3);

    // The whole trail through the view; the task's start and completion are stored in the rows of
    // the step transitions that caused them.
    const history = await ds.getRepository(e.Transition).find({ where: { taskId: created.id, kind: 'task' }, order: { id: 'ASC' } });
    expect(history.map((h) => [h.fromState, h.toState])).toEqual([
      [null, 'pending'],
      ['pending', 'in_progress'],
      ['in_progress', 'complete'],
    ]);
    expect(await ds.getRepository(e.Transition).countBy({ taskId: created.id })).toBe(11);
    const own = await ds.getRepository(e.TaskTransition).find({ where: { taskId: created.id } });
    expect(own.map((h) => [h.fromState, h.toState])).toEqual([[null, 'pending']]);
    const steps1 = await ds.getRepository(e.StepTransition).find({ where: { taskId: created.id }, order: { id: 'ASC' } });
    expect(steps1).toHaveLength(8);
    expect(steps1.filter((r) => r.taskTo !== null).map((r) => [r.stepName, r.toState, r.taskFrom, r.taskTo])).toEqual([
      ['step_1', 'in_progress', 'pending', 'in_progress'],
      ['step_4', 'complete', 'in_progress', 'complete'],
    ]);

    const type = await ds.getRepository(e.NamedTask).findOneByOrFail({ name: 'linear' });
    expect(type.version).toBe('1.0.0');
    expect(await ds.getRepository(e.NamedStep).countBy({ namedTaskId: type.id })).toBe(4);
    expect(await ds.getRepository(e.NamedStepEdge).countBy({ namedTaskId: type.id })).toBe(3);
    expect(await ds.getRepository(e.Namespace).countBy({ name: 'scenarios' })).toBe(1);
  });

  it('a retention job deleting finished tasks removes their steps, edges and history, and only theirs', async () => {
    const [old1, old2, kept] = await t.tasker.createTasks(
      [1, 2, 3].map((x) => ({ name: 'linear', namespace: 'scenarios', context: { x } })),
    );
    for (const task of [old1, old2, kept]) await t.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
    const e = taskerEntities(schema);
    await ds.getRepository(e.Task).delete([old1.id, old2.id]);

    for (const gone of [old1.id, old2.id]) {
      expect(await ds.getRepository(e.WorkflowStep).countBy({ taskId: gone })).toBe(0);
      expect(await ds.getRepository(e.WorkflowStepEdge).countBy({ taskId: gone })).toBe(0);
      expect(await ds.getRepository(e.TaskTransition).countBy({ taskId: gone })).toBe(0);
      expect(await ds.getRepository(e.StepTransition).countBy({ taskId: gone })).toBe(0);
      expect(await ds.getRepository(e.Transition).countBy({ taskId: gone })).toBe(0);
    }
    expect(await ds.getRepository(e.WorkflowStep).countBy({ taskId: kept.id })).toBe(4);
    expect(await ds.getRepository(e.WorkflowStepEdge).countBy({ taskId: kept.id })).toBe(3);
    expect(await ds.getRepository(e.Transition).countBy({ taskId: kept.id })).toBe(11);
    expect(await ds.getRepository(e.StepTransition).countBy({ taskId: kept.id })).toBe(8);
    expect((await t.tasker.getTask(kept.id)).state).toBe('complete');
  });
});
