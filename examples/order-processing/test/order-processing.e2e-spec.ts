import { StepFailedPayload, TaskerEvents, TaskValidationError } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FakePaymentProvider } from '../src/fake-payment-provider';
import { Mailer } from '../src/orders/fulfillment.services';
import { OrderAlerts } from '../src/orders/order-alerts.listener';
import type { OrderContext } from '../src/orders/order.dto';
import { OrdersModule } from '../src/orders/orders.module';
import { OrdersService } from '../src/orders/orders.service';
import { PaymentsConfig } from '../src/orders/payments.client';

const ORDER_TASK = { name: 'order_processing', namespace: 'fulfillment' };
const order = (orderId: string): OrderContext => ({ orderId, amountCents: 4_200, email: 'ada@example.com', items: [{ sku: 'book', quantity: 2 }] });
const declined = { status: 422, body: { error: 'card_declined' } };

describe('order processing: the payment step calls an HTTP API', () => {
  let provider: FakePaymentProvider;
  let kit: TaskerTestingApp;
  let orders: OrdersService;

  beforeAll(async () => {
    provider = await new FakePaymentProvider().start();
    // The whole feature module, on a throwaway schema, with the payment provider pointed at the fake.
    kit = await createTaskerTestingApp({
      imports: [OrdersModule],
      configure: (b) => b.overrideProvider(PaymentsConfig).useValue({ baseUrl: provider.url }),
    });
    orders = kit.get(OrdersService);
  });
  afterAll(async () => {
    await kit?.close();
    await provider?.stop();
  });
  afterEach(() => kit.restoreSteps());

  /** Places the order through the app's own service and waits for the task to settle. */
  async function placeAndWait(o: OrderContext) {
    const task = await orders.placeOrder(o);
    return kit.tasker.waitForTask(task.id, { timeoutMs: 30_000 });
  }

  it('429 with Retry-After, then 200: the charge is retried with the same idempotency key and the order completes', async () => {
    provider.script.push({ status: 429, headers: { 'retry-after': '30' }, body: { error: 'slow down' } });
    const done = await placeAndWait(order('A-1'));

    expect(done.state).toBe('complete');
    expect(await kit.completionOrder(done.id)).toEqual(['validate_payment', 'update_inventory', 'send_confirmation']);
    expect(TaskerTestingApp.results(done)).toEqual({
      validate_payment: { chargeId: 'ch_A-1', status: 'succeeded', amountCents: 4_200 },
      update_inventory: { chargeId: 'ch_A-1', reservationId: 'res_A-1', units: 2 },
      send_confirmation: { messageId: expect.stringMatching(/^msg_\d+$/), reservationId: 'res_A-1' },
    });
    expect(done.steps[0].attempts).toBe(2);
    expect(provider.chargesFor('A-1').map((c) => c.idempotencyKey)).toEqual(['order-A-1', 'order-A-1']);

    const [failed] = kit.eventsFor(done.id, TaskerEvents.STEP_FAILED) as StepFailedPayload[];
    expect(failed).toMatchObject({ stepName: 'validate_payment', attempt: 1, willRetry: true, error: { name: 'RetryableError', code: 'HTTP_429' } });
    expect(kit.get(Mailer).sent).toContainEqual({ to: 'ada@example.com', subject: 'Order A-1 confirmed' });
  });

  it('a declined card (422) fails the task at once: no retry, nothing reserved, support alerted', async () => {
    provider.script.push(declined);
    const done = await placeAndWait(order('A-2'));

    expect(done.state).toBe('error');
    expect(done.steps.map((s) => [s.name, s.state, s.attempts])).toEqual([
      ['validate_payment', 'error', 1],
      ['update_inventory', 'pending', 0],
      ['send_confirmation', 'pending', 0],
    ]);
    expect(done.steps[0].lastError).toMatchObject({ name: 'PermanentError', code: 'HTTP_422' });
    expect(done.steps[0].lastError?.message).toContain('card_declined');
    expect(provider.chargesFor('A-2')).toHaveLength(1);
    expect(kit.get(OrderAlerts).raised.map((a) => a.taskId)).toContain(done.id);
  });

  it('an operator retries the declined order after the customer fixed the card: only the failed step runs again', async () => {
    provider.script.push(declined);
    const failed = await placeAndWait(order('A-3'));
    expect(failed.state).toBe('error');

    // The provider approves the next attempt (nothing scripted); the operator retries the task.
    await kit.tasker.retryTask(failed.id, { actor: 'ops:alice', reason: 'customer updated the card' });
    const done = await kit.tasker.waitForTask(failed.id);

    expect(done.state).toBe('complete');
    expect(done.steps.map((s) => [s.name, s.attempts])).toEqual([
      ['validate_payment', 1], // a fresh attempt budget after the retry
      ['update_inventory', 1],
      ['send_confirmation', 1],
    ]);
    expect(provider.chargesFor('A-3')).toHaveLength(2);
    expect(kit.eventsFor(done.id, TaskerEvents.TASK_RETRY_REQUESTED)).toEqual([
      expect.objectContaining({ actor: 'ops:alice', reason: 'customer updated the card' }),
    ]);
    const trail = await kit.tasker.getAuditTrail(done.id);
    // The audit trail names who moved the task and its failed step back to pending, and why.
    expect(trail.filter((e) => e.actor === 'ops:alice').map((e) => [e.stepName ?? null, e.from, e.to, e.reason])).toEqual([
      [null, 'error', 'pending', 'customer updated the card'],
      ['validate_payment', 'error', 'pending', 'customer updated the card'],
    ]);
  });

  it('a flaky inventory step is retried; the completed payment step never runs again', async () => {
    const injected = kit.failStep(ORDER_TASK, 'update_inventory', { times: 2 });
    const done = await placeAndWait(order('A-4'));

    expect(done.state).toBe('complete');
    expect(injected.failures()).toBe(2);
    expect(done.steps.map((s) => [s.name, s.attempts])).toEqual([
      ['validate_payment', 1],
      ['update_inventory', 3],
      ['send_confirmation', 1],
    ]);
    expect(provider.chargesFor('A-4')).toHaveLength(1);
  });

  it('placing the same order twice creates one task', async () => {
    const first = await orders.placeOrder(order('A-5'));
    const second = await orders.placeOrder(order('A-5'));
    expect(second.id).toBe(first.id);
    expect((await kit.tasker.waitForTask(first.id)).state).toBe('complete');
    expect(provider.chargesFor('A-5')).toHaveLength(1);
  });

  it('a bad order is refused before anything is written, with each bad field', async () => {
    const bad = { orderId: 'nope', amountCents: 0, email: 'ada@example.com', items: [{ sku: 'book', quantity: 0 }] };
    const error = await orders.placeOrder(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskValidationError);
    expect((error as TaskValidationError).errors.map((f) => f.field).sort()).toEqual(['context.amountCents', 'context.items.0.quantity', 'context.orderId']);
    expect((await kit.tasker.listTasks({ namespace: 'fulfillment' })).items.map((t) => t.context.orderId)).not.toContain('nope');
  });
});

describe('order processing with real retry delays', () => {
  it("waits for the provider's Retry-After before charging again", async () => {
    const provider = await new FakePaymentProvider().start();
    // retryDelays: 'real' turns off the kit's default of retrying at once.
    const kit = await createTaskerTestingApp({
      imports: [OrdersModule],
      tasker: { retryDelays: 'real' },
      configure: (b) => b.overrideProvider(PaymentsConfig).useValue({ baseUrl: provider.url }),
    });
    try {
      provider.script.push({ status: 429, headers: { 'retry-after': '1' } });
      const task = await kit.get(OrdersService).placeOrder(order('B-1'));
      const done = await kit.tasker.waitForTask(task.id, { timeoutMs: 30_000 });
      expect(done.state).toBe('complete');
      const [failed] = kit.eventsFor(done.id, TaskerEvents.STEP_FAILED) as StepFailedPayload[];
      // The retry was scheduled one second after the failure (a value check, not a speed check).
      const delay = failed.nextRetryAt!.getTime() - failed.occurredAt.getTime();
      expect(delay).toBeGreaterThanOrEqual(900);
      expect(delay).toBeLessThan(1_500);
    } finally {
      await kit.close();
      await provider.stop();
    }
  });
});

describe('examples/order-processing/src/main.ts', () => {
  it('runs against DATABASE_URL and completes an order', async () => {
    // An API-only app owns a throwaway schema for main.ts to use, and drops it at close.
    const owner = await createTaskerTestingApp({ tasker: { worker: { enabled: false } } });
    try {
      const root = join(__dirname, '..', '..', '..');
      const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', 'examples/order-processing/src/main.ts'], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: owner.databaseUrl, TASKER_SCHEMA: owner.schema, PAYMENT_API_URL: '' },
        timeout: 60_000,
      });
      const result = JSON.parse(stdout.trim().split('\n').pop()!);
      expect(result).toMatchObject({ state: 'complete' });
      expect(result.steps.map((s: unknown[]) => [s[0], s[1]])).toEqual([
        ['validate_payment', 'complete'],
        ['update_inventory', 'complete'],
        ['send_confirmation', 'complete'],
      ]);
    } finally {
      await owner.close();
    }
  }, 90_000);
});
