import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { Labels, LabelsModule, unfinishedTasks } from './versioning';

/** Runs the samples of docs/versioning.md. */
describe('docs/versioning.md samples', () => {
  let kit: TaskerTestingApp;
  beforeAll(async () => {
    kit = await createTaskerTestingApp({ imports: [LabelsModule], providers: [Labels] });
  });
  afterAll(() => kit?.close());

  it('no version → the highest; a pinned version → that one, with its own steps', async () => {
    const labels = kit.get(Labels);
    const latest = await kit.tasker.waitForTask((await labels.print('P1')).id);
    const pinned = await kit.tasker.waitForTask((await labels.printWithV1('P2')).id);
    expect([latest.version, latest.state, latest.steps.map((s) => s.name)]).toEqual(['2.0.0', 'complete', ['render', 'customs_declaration', 'send_to_printer']]);
    expect([pinned.version, pinned.state, pinned.steps.map((s) => s.name)]).toEqual(['1.0.0', 'complete', ['render', 'send_to_printer']]);
  });

  it('finds the unfinished tasks of a version', async () => {
    kit.failStep({ name: 'print_label', namespace: 'shipping', version: '1.0.0' }, 'send_to_printer', { permanent: true });
    const stuck = await kit.run({ name: 'print_label', namespace: 'shipping', version: '1.0.0', context: { parcelId: 'P3' } });
    await kit.run({ name: 'print_label', namespace: 'shipping', context: { parcelId: 'P4' } });
    expect((await unfinishedTasks(kit.tasker, 'shipping', 'print_label', '1.0.0')).map((t) => t.id)).toEqual([stuck.id]);
    expect(await unfinishedTasks(kit.tasker, 'shipping', 'print_label', '2.0.0')).toEqual([]);
  });
});
