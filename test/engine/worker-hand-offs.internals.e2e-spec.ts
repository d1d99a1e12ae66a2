// Internals: spies on StepRepository's claim, completeMany and completeAndClaim, to count the statements a chain's hand-offs take.
import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import { StepRepository } from '../../libs/tasker/src/persistence/step.repository';
import { dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { waitFor } from '../support/wait';

@TaskHandler({ name: 'line', namespace: 'hand_offs', version: '1' })
class LineWorkflow {
  @Step()
  first() {}

  @Step()
  @DependsOn('first')
  second() {}

  @Step()
  @DependsOn('second')
  third() {}
}

/**
 * Each step of a chain is claimed in the statement that stores its predecessor's success, the new
 * task's first step included. A task created in the worker's own process used to wake the worker
 * twice (at once, and by the creation's NOTIFY): the second claim held the claim slot when the
 * first step finished, so that success was stored without the next claim, which then took a round
 * trip of its own. No timer polls here (pollIntervalMs of a minute), so every statement counted
 * comes from the task itself. The last step has no dependent: its success is stored beside a claim
 * (two statements at once), as no claim needs to see it.
 */
describe('hand-offs of a task created in the worker’s process', () => {
  const schema = uniqueSchema('hand_offs');
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp(schema, [LineWorkflow], { worker: { pollIntervalMs: 60_000 } });
  });
  afterAll(async () => {
    await app?.close();
    await dropSchema(schema);
  });

  it('one claim for the first step, then every success that makes a step ready stored together with the next claim', async () => {
    const repo = app.get(StepRepository);
    const claim = jest.spyOn(repo, 'claim');
    const alone = jest.spyOn(repo, 'completeMany');
    const along = jest.spyOn(repo, 'completeAndClaim');
    for (let i = 0; i < 5; i++) {
      // The last task's final success is stored beside a claim, two statements at once: the task is
      // complete once the first commits, while the claim may still be running. On a loaded machine it
      // could then claim the next task's first step, and the wake-up of that task would claim (in
      // vain) just as its first success is stored: the worker is waited for until both have returned.
      await Promise.allSettled([...claim.mock.results, ...alone.mock.results, ...along.mock.results].map((r) => r.value));
      const before = { claim: claim.mock.calls.length, alone: alone.mock.calls.length, along: along.mock.calls.length };
      const task = await app.tasker.createTask({ name: 'line', namespace: 'hand_offs', context: {} });
      await waitFor('the task to complete', async () => (await app.tasker.getTask(task.id)).state === 'complete');
      expect({
        claim: claim.mock.calls.length - before.claim,
        alone: alone.mock.calls.length - before.alone,
        along: along.mock.calls.length - before.along,
      }).toEqual({ claim: 2, alone: 1, along: 2 });
    }
  });
});
