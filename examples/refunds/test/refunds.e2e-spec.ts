import { HandlerNotFoundError } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PaymentsRefundV1, PaymentsRefundV2 } from '../src/refunds/payments-refund.handlers';
import { RefundLedger } from '../src/refunds/refund-ledger.service';
import { RefundsModule } from '../src/refunds/refunds.module';

const context = (refundId: string) => ({ refundId, amountCents: 1_999 });
const stepNames = (d: { steps: { name: string }[] }) => d.steps.map((s) => s.name);

describe('refund: two namespaces, two versions side by side', () => {
  let kit: TaskerTestingApp;
  let ledger: RefundLedger;

  beforeAll(async () => {
    kit = await createTaskerTestingApp({ imports: [RefundsModule] });
    ledger = kit.get(RefundLedger);
  });
  afterAll(() => kit?.close());
  afterEach(() => kit.restoreSteps());

  it('createTask without a version picks the highest registered one (2.0.0)', async () => {
    const done = await kit.run({ name: 'refund', namespace: 'payments', context: context('r-1') });
    expect(done).toMatchObject({ namespace: 'payments', version: '2.0.0', state: 'complete' });
    expect(stepNames(done)).toEqual(['validate_refund', 'refund_payment', 'restock_items', 'notify_customer']);
    expect(ledger.stepsOf(done.id).every((s) => s.startsWith('payments/refund@2.0.0 '))).toBe(true);
    expect(TaskerTestingApp.results(done).notify_customer).toEqual({ by: 'payments/refund@2.0.0', refundId: 'r-1' });
  });

  it('createTask with version 1.0.0 runs 1.0.0, whose steps are its own', async () => {
    const done = await kit.run({ name: 'refund', namespace: 'payments', version: '1.0.0', context: context('r-2') });
    expect(done).toMatchObject({ version: '1.0.0', state: 'complete' });
    expect(stepNames(done)).toEqual(['validate_refund', 'refund_payment', 'notify_customer']);
    expect(ledger.stepsOf(done.id)).toEqual([
      'payments/refund@1.0.0 validate_refund',
      'payments/refund@1.0.0 refund_payment',
      'payments/refund@1.0.0 notify_customer',
    ]);
  });

  it('the two namespaces do not mix: same task name, their own steps, tasks and lists', async () => {
    const market = await kit.run({ name: 'refund', namespace: 'marketplace', context: context('r-3') });
    const marketV1 = await kit.run({ name: 'refund', namespace: 'marketplace', version: '1.0.0', context: context('r-4') });
    expect(market).toMatchObject({ namespace: 'marketplace', version: '2.0.0', state: 'complete' });
    expect(stepNames(market)).toEqual(['validate_claim', 'debit_seller', 'refund_fees', 'refund_buyer']);
    expect(stepNames(marketV1)).toEqual(['validate_claim', 'debit_seller', 'refund_buyer']);
    expect(ledger.stepsOf(market.id).every((s) => s.startsWith('marketplace/refund@2.0.0 '))).toBe(true);

    const payments = await kit.tasker.listTasks({ namespace: 'payments', name: 'refund' });
    const marketplace = await kit.tasker.listTasks({ namespace: 'marketplace', name: 'refund' });
    expect(payments.items.every((t) => t.namespace === 'payments')).toBe(true);
    expect(marketplace.items.map((t) => t.id).sort()).toEqual([market.id, marketV1.id].sort());

    const types = await kit.tasker.listTaskTypes({ name: 'refund' });
    expect(types.map((t) => `${t.namespace}@${t.version}`).sort()).toEqual(['marketplace@1.0.0', 'marketplace@2.0.0', 'payments@1.0.0', 'payments@2.0.0']);
  });

  it('a version nobody registered is refused', async () => {
    await expect(kit.tasker.createTask({ name: 'refund', namespace: 'payments', version: '3.0.0', context: context('r-5') })).rejects.toBeInstanceOf(
      HandlerNotFoundError,
    );
  });

  it('failStep targets the version you name; the other version runs normally', async () => {
    kit.failStep({ name: 'refund', namespace: 'payments', version: '1.0.0' }, 'refund_payment', { permanent: true });
    const v1 = await kit.run({ name: 'refund', namespace: 'payments', version: '1.0.0', context: context('r-6') });
    const v2 = await kit.run({ name: 'refund', namespace: 'payments', context: context('r-7') });
    expect(v1.state).toBe('error');
    expect(v2.state).toBe('complete');
  });
});

/**
 * A rolling upgrade: old workers have only 1.0.0, new workers only 2.0.0, all on one database.
 * Each worker claims only the versions it has, so in-flight 1.0.0 tasks finish on old workers.
 */
describe('refund: rolling upgrade from 1.0.0 to 2.0.0', () => {
  let api: TaskerTestingApp;
  const workers: TaskerTestingApp[] = [];
  /** A worker process with the given handler versions, on the API's database and schema. */
  const startWorker = async (handler: typeof PaymentsRefundV1 | typeof PaymentsRefundV2) => {
    const w = await createTaskerTestingApp({ providers: [RefundLedger, handler], tasker: { schema: api.schema } });
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    // An API-only process (no worker): it creates tasks and owns the throwaway schema.
    api = await createTaskerTestingApp({ tasker: { worker: { enabled: false } } });
  });
  afterAll(async () => {
    for (const w of workers) await w.close();
    await api?.close();
  });

  it('old workers finish 1.0.0 tasks, new workers take 2.0.0; neither runs the other', async () => {
    const oldWorker = await startWorker(PaymentsRefundV1);
    const newWorker = await startWorker(PaymentsRefundV2);

    const v2 = await api.run({ name: 'refund', namespace: 'payments', context: context('u-1') });
    const v1 = await api.run({ name: 'refund', namespace: 'payments', version: '1.0.0', context: context('u-2') });
    expect([v2.version, v2.state, v1.version, v1.state]).toEqual(['2.0.0', 'complete', '1.0.0', 'complete']);
    expect(newWorker.get(RefundLedger).stepsOf(v2.id)).toHaveLength(4);
    expect(oldWorker.get(RefundLedger).stepsOf(v2.id)).toEqual([]);
    expect(oldWorker.get(RefundLedger).stepsOf(v1.id)).toHaveLength(3);
    expect(newWorker.get(RefundLedger).stepsOf(v1.id)).toEqual([]);

    // The old fleet is gone; a 1.0.0 task waits for a worker that has 1.0.0, untouched by the new one...
    await oldWorker.close();
    workers.splice(workers.indexOf(oldWorker), 1);
    const waiting = await api.tasker.createTask({ name: 'refund', namespace: 'payments', version: '1.0.0', context: context('u-3') });
    const later = await api.run({ name: 'refund', namespace: 'payments', context: context('u-4') });
    expect(later.state).toBe('complete');
    const stillWaiting = await api.tasker.getTask(waiting.id);
    expect(stillWaiting.state).toBe('pending');
    expect(stillWaiting.steps.map((s) => s.attempts)).toEqual([0, 0, 0]);
    expect(stillWaiting.steps[0].readiness).toMatchObject({ ready: true });

    // ...and finishes as soon as one is back.
    const revived = await startWorker(PaymentsRefundV1);
    const done = await api.tasker.waitForTask(waiting.id);
    expect(done).toMatchObject({ version: '1.0.0', state: 'complete' });
    expect(revived.get(RefundLedger).stepsOf(waiting.id)).toHaveLength(3);
  });
});

describe('examples/refunds/src/main.ts', () => {
  it('runs against DATABASE_URL: 2.0.0 by default, 1.0.0 when asked, each namespace its own', async () => {
    const owner = await createTaskerTestingApp({ tasker: { worker: { enabled: false } } });
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', 'examples/refunds/src/main.ts'], {
        cwd: join(__dirname, '..', '..', '..'),
        env: { ...process.env, DATABASE_URL: owner.databaseUrl, TASKER_SCHEMA: owner.schema },
        timeout: 60_000,
      });
      const lines = stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => [l.type, l.state])).toEqual([
        ['payments/refund@2.0.0', 'complete'],
        ['payments/refund@1.0.0', 'complete'],
        ['marketplace/refund@2.0.0', 'complete'],
      ]);
    } finally {
      await owner.close();
    }
  }, 90_000);
});
