import type { TaskDetail } from 'nestjs-tasker';
import { dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';
import { expectConsistentAuditTrail, expectTrailEndsWithTask } from '../support/audit-check';
import { ExecutionLog } from '../fixtures/execution-log';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { DiamondWorkflow } from '../fixtures/diamond.workflow';
import { TreeWorkflow } from '../fixtures/tree.workflow';
import { MixedDagWorkflow } from '../fixtures/mixed-dag.workflow';
import { OrderProcessingWorkflow, OrderServicesStub } from '../fixtures/order-processing.workflow';
import { OrderFulfillmentWorkflow } from '../fixtures/order-fulfillment.workflow';
import { BRANCHES, FanOutWorkflow } from '../fixtures/fan-out.workflow';

/** Expected graph and results of a workflow: step → [dependencies, result]. */
type Expected = Record<string, [string[], unknown]>;

describe('reference workflows (SCENARIOS.md)', () => {
  const schema = uniqueSchema('scn');
  let t: TestApp;
  let log: ExecutionLog;

  beforeAll(async () => {
    t = await startApp(schema, [
      ExecutionLog,
      OrderServicesStub,
      LinearWorkflow,
      DiamondWorkflow,
      TreeWorkflow,
      MixedDagWorkflow,
      OrderProcessingWorkflow,
      OrderFulfillmentWorkflow,
      FanOutWorkflow,
    ], { worker: { concurrency: 20 } });
    log = t.get(ExecutionLog);
  });
  afterAll(async () => {
    await t?.close();
    await dropSchema(schema);
  });

  async function run(name: string, namespace: string, context: Record<string, unknown>): Promise<TaskDetail> {
    const task = await t.tasker.createTask({ name, namespace, context });
    return t.tasker.waitForTask(task.id, { timeoutMs: 30_000 });
  }

  /**
   * The task is complete; every step is complete after exactly one attempt, with the expected
   * dependencies and result; the audit trail is complete and legal.
   */
  async function expectCompleted(done: TaskDetail, expected: Expected): Promise<void> {
    expect(done.state).toBe('complete');
    expect(done.completedAt).toBeInstanceOf(Date);
    const actual = Object.fromEntries(
      done.steps.map((s) => [s.name, { state: s.state, attempts: s.attempts, dependsOn: [...s.dependsOn].sort(), results: s.results, lastError: s.lastError }]),
    );
    const wanted = Object.fromEntries(
      Object.entries(expected).map(([name, [deps, results]]) => [name, { state: 'complete', attempts: 1, dependsOn: [...deps].sort(), results, lastError: null }]),
    );
    expect(actual).toEqual(wanted);
    const trail = await expectConsistentAuditTrail(t.tasker, done);
    expectTrailEndsWithTask(trail, 'complete');
    // Each step moved exactly pending → in_progress → complete.
    for (const s of done.steps) {
      expect(trail.filter((e) => e.stepName === s.name).map((e) => `${e.from}>${e.to}`)).toEqual(['pending>in_progress', 'in_progress>complete']);
    }
  }

  /**
   * With the ExecutionLog: each step ran exactly once, after its parents, and saw exactly its
   * parents' stored results.
   */
  function expectExecutedOnceInOrder(done: TaskDetail): void {
    const runs = log.forTask(done.id);
    expect(log.counts(done.id)).toEqual(Object.fromEntries(done.steps.map((s) => [s.name, 1])));
    const stored = new Map(done.steps.map((s) => [s.name, s.results]));
    const seq = new Map(runs.map((r) => [r.step, r.seq]));
    for (const s of done.steps) {
      const r = runs.find((x) => x.step === s.name)!;
      expect(r.attempt).toBe(1);
      expect(r.results).toEqual(Object.fromEntries(s.dependsOn.map((d) => [d, stored.get(d)])));
      for (const d of s.dependsOn) expect(seq.get(d)!).toBeLessThan(seq.get(s.name)!);
    }
  }

  it('linear: step_1 → step_2 → step_3 → step_4 gives 69', async () => {
    const done = await run('linear', 'scenarios', { x: 6 });
    await expectCompleted(done, {
      step_1: [[], 36],
      step_2: [['step_1'], 46],
      step_3: [['step_2'], 138],
      step_4: [['step_3'], 69],
    });
  });

  it('diamond: start → {branch_b, branch_c} → end gives 66.5', async () => {
    const done = await run('diamond', 'scenarios', { x: 6 });
    await expectCompleted(done, {
      start: [[], 36],
      branch_b: [['start'], 61],
      branch_c: [['start'], 72],
      end: [['branch_b', 'branch_c'], 66.5],
    });
    expectExecutedOnceInOrder(done);
  });

  it('tree (8): root → {left, right} → 4 leaves → final gives 632', async () => {
    const done = await run('tree', 'scenarios', { x: 6 });
    await expectCompleted(done, {
      root: [[], 7],
      left: [['root'], 14],
      right: [['root'], 21],
      leaf_d: [['left'], 15],
      leaf_e: [['left'], 13],
      leaf_f: [['right'], 23],
      leaf_g: [['right'], 19],
      final: [['leaf_d', 'leaf_e', 'leaf_f', 'leaf_g'], 632],
    });
    expectExecutedOnceInOrder(done);
  });

  it('mixed DAG (7) gives 287', async () => {
    const done = await run('mixed_dag', 'scenarios', { x: 6 });
    await expectCompleted(done, {
      init: [[], 36],
      left: [['init'], 37],
      right: [['init'], 72],
      validate: [['left', 'right'], 109],
      transform: [['left'], 111],
      analyze: [['right'], 67],
      finalize: [['validate', 'transform', 'analyze'], 287],
    });
    expectExecutedOnceInOrder(done);
  });

  it('the reference workflows give the same results when run side by side', async () => {
    const tasks = await t.tasker.createTasks([
      { name: 'diamond', namespace: 'scenarios', context: { x: 6 } },
      { name: 'tree', namespace: 'scenarios', context: { x: 6 } },
      { name: 'mixed_dag', namespace: 'scenarios', context: { x: 6 } },
      { name: 'linear', namespace: 'scenarios', context: { x: 6 } },
      { name: 'diamond', namespace: 'scenarios', context: { x: 2 } },
    ]);
    const finals = await Promise.all(tasks.map((k) => t.tasker.waitForTask(k.id, { timeoutMs: 30_000 })));
    const last = (d: TaskDetail) => d.steps[d.steps.length - 1];
    expect(finals.map((d) => [d.state, last(d).name, last(d).results])).toEqual([
      ['complete', 'end', 66.5],
      ['complete', 'final', 632],
      ['complete', 'finalize', 287],
      ['complete', 'step_4', 69],
      ['complete', 'end', 18.5], // x = 2: 4 → 29, 8 → 18.5
    ]);
    for (const d of finals) expect(d.steps.every((s) => s.attempts === 1 && s.state === 'complete')).toBe(true);
  });

  it('order processing: validate_payment → update_inventory → send_confirmation, all complete, in order', async () => {
    const done = await run('order_processing', 'fulfillment', { orderId: 'A1001', amountCents: 4200, sku: 'SKU9', quantity: 2 });
    await expectCompleted(done, {
      validate_payment: [[], { paymentId: 'pay_A1001', authorizedCents: 4200 }],
      update_inventory: [['validate_payment'], { reservationId: 'res_SKU9_2', paymentId: 'pay_A1001' }],
      send_confirmation: [['update_inventory'], { confirmationId: 'conf_A1001', reservationId: 'res_SKU9_2', sent: true }],
    });
    expectExecutedOnceInOrder(done);
    expect(log.forTask(done.id).map((r) => r.step)).toEqual(['validate_payment', 'update_inventory', 'send_confirmation']);
    expect(done.steps.find((s) => s.name === 'validate_payment')).toMatchObject({ retryLimit: 3, timeoutMs: 30_000 });
  });

  it('order fulfillment: redundant transitive dependencies, timeouts; each step exactly once, in dependency order', async () => {
    const done = await run('order_fulfillment', 'fulfillment', { orderId: 'B7', amountCents: 1250, sku: 'SKU1', quantity: 3 });
    await expectCompleted(done, {
      validate_order: [[], { orderId: 'B7', valid: true, totalCents: 3750 }],
      reserve_inventory: [['validate_order'], { reservationId: 'res_B7', quantity: 3 }],
      process_payment: [['validate_order', 'reserve_inventory'], { paymentId: 'pay_res_B7', chargedCents: 3750 }],
      ship_order: [
        ['validate_order', 'reserve_inventory', 'process_payment'],
        { trackingNumber: 'trk_B7', reservationId: 'res_B7', paymentId: 'pay_res_B7', chargedCents: 3750 },
      ],
    });
    expectExecutedOnceInOrder(done);
    expect(log.forTask(done.id).map((r) => r.step)).toEqual(['validate_order', 'reserve_inventory', 'process_payment', 'ship_order']);
    expect(Object.fromEntries(done.steps.map((s) => [s.name, s.timeoutMs]))).toEqual({
      validate_order: 5_000,
      reserve_inventory: 5_000,
      process_payment: 10_000,
      ship_order: 5_000,
    });
  });

  it('wide fan-out/fan-in: root → 500 parallel steps → join sums them to 131250', async () => {
    const done = await run('fan_out', 'scenarios', { x: 6 });
    const expected: Expected = { root: [[], 12], join: [BRANCHES, 131_250] };
    BRANCHES.forEach((b, i) => (expected[b] = [['root'], 12 + i + 1]));
    await expectCompleted(done, expected);
    expect(done.steps).toHaveLength(502);
    expectExecutedOnceInOrder(done);
    const join = log.forTask(done.id).find((r) => r.step === 'join')!;
    expect(Object.keys(join.results)).toHaveLength(500);
  });
});
