import { AuditEntry, TaskerEvents } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PipelineModule } from '../src/pipeline/pipeline.module';
import { OutputsService, SourcesService } from '../src/pipeline/sources.service';

const PIPELINE = { name: 'customer_analytics', namespace: 'data' };
const EXTRACTS = ['extract_orders', 'extract_users', 'extract_products'];
const TRANSFORMS = ['transform_sales', 'transform_customers'];

const EXPECTED_RESULTS = {
  extract_orders: expect.any(Array),
  extract_users: expect.any(Array),
  extract_products: expect.any(Array),
  transform_sales: { revenueByCategory: { books: 6_500, games: 6_000 }, totalRevenueCents: 12_500, orderCount: 4 },
  transform_customers: { ordersBySegment: { retail: 3, business: 1 }, activeCustomers: 3 },
  generate_insights: { topCategory: 'books', averageOrderValueCents: 3_125, revenuePerCustomerCents: 4_167, ordersBySegment: { retail: 3, business: 1 } },
  update_dashboard: { tiles: ['2024-05-01:insights'] },
  send_notifications: { notified: 2 },
};

describe('data pipeline: three parallel extracts → two transforms → insights → dashboard → notifications', () => {
  let kit: TaskerTestingApp;
  let outputs: OutputsService;

  beforeAll(async () => {
    kit = await createTaskerTestingApp({ imports: [PipelineModule] });
    outputs = kit.get(OutputsService);
  });
  afterAll(() => kit?.close());
  afterEach(() => kit.restoreSteps());

  const run = (day = '2024-05-01') => kit.run({ ...PIPELINE, context: { day, recipients: ['ops@example.com', 'ceo@example.com'] } });

  /** Position of a step's first transition to `to` in the audit trail (which is in commit order). */
  const position = (trail: AuditEntry[], step: string, to: string) => trail.findIndex((e) => e.stepName === step && e.to === to);

  it('computes exact results and writes the dashboard and the notifications', async () => {
    const done = await run();
    expect(done.state).toBe('complete');
    expect(TaskerTestingApp.results(done)).toEqual(EXPECTED_RESULTS);
    expect(outputs.dashboard.get('2024-05-01:insights')).toEqual(EXPECTED_RESULTS.generate_insights);
    expect(outputs.notifications).toEqual([
      { to: 'ops@example.com', text: 'Insights for 2024-05-01 are on the dashboard' },
      { to: 'ceo@example.com', text: 'Insights for 2024-05-01 are on the dashboard' },
    ]);
    expect((await kit.completionOrder(done.id)).slice(-3)).toEqual(['generate_insights', 'update_dashboard', 'send_notifications']);
  });

  it('runs the three extracts in parallel and each transform after its own inputs (from the audit trail)', async () => {
    const done = await run('2024-05-02');
    const trail = await kit.tasker.getAuditTrail(done.id);

    const extractStarts = EXTRACTS.map((s) => position(trail, s, 'in_progress'));
    const extractEnds = EXTRACTS.map((s) => position(trail, s, 'complete'));
    const transformStarts = TRANSFORMS.map((s) => position(trail, s, 'in_progress'));
    expect([...extractStarts, ...extractEnds, ...transformStarts].every((i) => i >= 0)).toBe(true);
    // All three were running at the same time: each started before any of them finished...
    expect(Math.max(...extractStarts)).toBeLessThan(Math.min(...extractEnds));
    // ...and all three started before any transform.
    expect(Math.max(...extractStarts)).toBeLessThan(Math.min(...transformStarts));

    // Fan-in: a step starts only after every one of its dependencies completed.
    for (const step of done.steps) {
      for (const parent of step.dependsOn) {
        expect(position(trail, parent, 'complete')).toBeLessThan(position(trail, step.name, 'in_progress'));
      }
    }
    expect(done.steps.find((s) => s.name === 'generate_insights')?.dependsOn.sort()).toEqual(['transform_customers', 'transform_sales']);

    // The events say the same: the first three steps to start are the extracts.
    const started = kit.eventsFor(done.id, TaskerEvents.STEP_STARTED).map((e) => ('stepName' in e ? e.stepName : ''));
    expect(started.slice(0, 3).sort()).toEqual([...EXTRACTS].sort());
  });

  it('a flaky source is retried; the other extracts run once and the results are the same', async () => {
    const injected = kit.failStep(PIPELINE, 'extract_users', { times: 2 });
    const done = await run('2024-05-03');

    expect(done.state).toBe('complete');
    expect(injected.failures()).toBe(2);
    expect(Object.fromEntries(done.steps.map((s) => [s.name, s.attempts]))).toMatchObject({
      extract_orders: 1,
      extract_users: 3,
      extract_products: 1,
      transform_customers: 1,
    });
    expect(TaskerTestingApp.results(done).generate_insights).toEqual(EXPECTED_RESULTS.generate_insights);
  });

  it('a source that is down stops only what depends on it; an operator supplies its data and the task completes', async () => {
    kit.failStep(PIPELINE, 'extract_products', { permanent: true });
    const failed = await run('2024-05-04');

    expect(failed.state).toBe('error');
    const state = Object.fromEntries(failed.steps.map((s) => [s.name, s.state]));
    expect(state).toEqual({
      extract_orders: 'complete',
      extract_users: 'complete',
      extract_products: 'error',
      transform_sales: 'pending', // needs the products
      transform_customers: 'complete', // does not: the independent branch finished
      generate_insights: 'pending',
      update_dashboard: 'pending',
      send_notifications: 'pending',
    });

    // The operator loads the catalogue from last night's backup and resolves the step with it.
    const backup = await kit.get(SourcesService).products();
    await kit.tasker.resolveStep(failed.id, 'extract_products', { results: backup, actor: 'ops:bob', reason: 'catalogue API down; loaded from backup' });
    const done = await kit.tasker.waitForTask(failed.id);

    expect(done.state).toBe('complete');
    expect(done.steps.find((s) => s.name === 'extract_products')?.state).toBe('resolved_manually');
    expect(TaskerTestingApp.results(done).generate_insights).toEqual(EXPECTED_RESULTS.generate_insights);
    expect(kit.eventsFor(done.id, TaskerEvents.STEP_RESOLVED_MANUALLY)).toEqual([
      expect.objectContaining({ stepName: 'extract_products', actor: 'ops:bob' }),
    ]);
  });
});

describe('examples/data-pipeline/src/main.ts', () => {
  it('runs against DATABASE_URL and prints the insights', async () => {
    const owner = await createTaskerTestingApp({ tasker: { worker: { enabled: false } } });
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', 'examples/data-pipeline/src/main.ts'], {
        cwd: join(__dirname, '..', '..', '..'),
        env: { ...process.env, DATABASE_URL: owner.databaseUrl, TASKER_SCHEMA: owner.schema },
        timeout: 60_000,
      });
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ state: 'complete', insights: EXPECTED_RESULTS.generate_insights });
    } finally {
      await owner.close();
    }
  }, 90_000);
});
