import { BadRequestException } from '@nestjs/common';
import { StepFailedPayload, TaskerEvents } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CarrierClient, LabelPrinter, ParcelsController, RatesConfig, ShippingDesk, ShippingModule } from './retries';

/** Runs the samples of docs/retries-and-errors.md. */
describe('docs/retries-and-errors.md samples', () => {
  let kit: TaskerTestingApp;
  let carrier: CarrierClient;
  let rates: Server;
  const rateAnswers: [number, Record<string, string>, string][] = [];
  let parcel = 0;
  const ship = () => kit.run({ name: 'ship_parcel', namespace: 'shipping', context: { parcelId: `P${++parcel}` } });
  const step = (d: { steps: { name: string }[] }, name: string) => d.steps.find((s) => s.name === name) as (typeof d.steps)[number] & Record<string, any>;

  beforeAll(async () => {
    rates = createServer((req, res) => {
      const [status, headers, body] = rateAnswers.shift() ?? [200, { 'content-type': 'application/json' }, '{"cents":700}'];
      res.writeHead(status, headers).end(body);
    });
    await new Promise<void>((r) => rates.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(rates.address() as AddressInfo).port}`;
    kit = await createTaskerTestingApp({
      imports: [ShippingModule],
      providers: [ShippingDesk],
      configure: (b) => b.overrideProvider(RatesConfig).useValue({ url }),
    });
    carrier = kit.get(CarrierClient);
  });
  afterAll(async () => {
    await kit?.close();
    await new Promise((r) => rates.close(r));
  });

  it('RetryableError with retryAfterMs: retried, then complete', async () => {
    carrier.script.push({ kind: 'rate_limited', waitMs: 30_000 });
    const done = await ship();
    expect(done.state).toBe('complete');
    expect(step(done, 'book_carrier').attempts).toBe(2);
    const [failed] = kit.eventsFor(done.id, TaskerEvents.STEP_FAILED) as StepFailedPayload[];
    expect(failed).toMatchObject({ stepName: 'book_carrier', willRetry: true, error: { name: 'RetryableError', code: 'RATE_LIMITED' } });
  });

  it('PermanentError: one attempt, the task is in error, dependents never ran; retryTask after the fix completes it', async () => {
    carrier.script.push({ kind: 'invalid_address', detail: 'no such street' });
    const failed = await ship();
    expect(failed.state).toBe('error');
    expect(step(failed, 'book_carrier')).toMatchObject({ state: 'error', attempts: 1, lastError: { name: 'PermanentError', code: 'BAD_ADDRESS' } });
    expect(step(failed, 'print_label')).toMatchObject({ state: 'pending', attempts: 0 });
    expect(step(failed, 'fetch_rates').state).toBe('complete'); // independent: it finished anyway

    await kit.get(ShippingDesk).retry(failed.id, 'ops:carol');
    const done = await kit.tasker.waitForTask(failed.id);
    expect(done.state).toBe('complete');
    expect(step(done, 'fetch_rates').attempts).toBe(1); // not run again
  });

  it('any other error is retried with backoff until the attempts run out', async () => {
    carrier.script.push(...Array.from({ length: 4 }, () => new Error('ECONNRESET')));
    const done = await ship();
    expect(done.state).toBe('error');
    expect(step(done, 'book_carrier')).toMatchObject({ attempts: 4, retryLimit: 4, lastError: { name: 'Error', message: 'ECONNRESET' } });
    const failures = kit.eventsFor(done.id, TaskerEvents.STEP_FAILED) as StepFailedPayload[];
    expect(failures.map((e) => e.willRetry)).toEqual([true, true, true, false]);
    expect(kit.eventsFor(done.id, TaskerEvents.TASK_FAILED)).toHaveLength(1);

    // Booked by phone: the operator resolves the step with its results; print_label runs with them.
    await kit.get(ShippingDesk).bookedByPhone(done.id, 'TRK-PHONE', 'ops:dan');
    const resolved = await kit.tasker.waitForTask(done.id);
    expect(resolved.state).toBe('complete');
    expect(step(resolved, 'book_carrier')).toMatchObject({ state: 'resolved_manually', results: { trackingId: 'TRK-PHONE' } });
    expect(step(resolved, 'print_label').results).toEqual({ label: 'label-TRK-PHONE.pdf' });
  });

  it('a step over its timeoutMs fails with StepTimeoutError and is retried', async () => {
    kit.get(LabelPrinter).hangOnce = true;
    const done = await ship();
    expect(done.state).toBe('complete');
    const [failed] = kit.eventsFor(done.id, TaskerEvents.STEP_FAILED) as StepFailedPayload[];
    expect(failed).toMatchObject({ stepName: 'print_label', error: { name: 'StepTimeoutError', code: 'STEP_TIMEOUT' }, willRetry: true });
    expect(step(done, 'print_label').attempts).toBe(2);
  });

  it('httpStep: 503 is retried, 404 fails at once', async () => {
    rateAnswers.push([503, { 'retry-after': '5' }, 'maintenance']);
    const retried = await ship();
    expect(step(retried, 'fetch_rates')).toMatchObject({ state: 'complete', attempts: 2, results: { cents: 700, status: 200 } });

    rateAnswers.push([404, {}, 'no such parcel']);
    const failed = await ship();
    expect(step(failed, 'fetch_rates')).toMatchObject({ state: 'error', attempts: 1, lastError: { name: 'PermanentError', code: 'HTTP_404' } });
  });

  it('cancelTask: pending steps are cancelled', async () => {
    carrier.script.push({ kind: 'invalid_address', detail: 'x' });
    const failed = await ship();
    const cancelled = await kit.get(ShippingDesk).cancel(failed.id, 'ops:erin');
    expect(cancelled.state).toBe('cancelled');
    expect(step(await kit.tasker.getTask(failed.id), 'print_label').state).toBe('cancelled');
  });

  it('a TaskValidationError becomes a 400 in the controller', async () => {
    const error = await kit.get(ParcelsController).ship({ parcelId: 'nope' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestException);
    expect((error as BadRequestException).getResponse()).toMatchObject({ fields: [{ field: 'context.parcelId', messages: [expect.stringContaining('parcelId must match')] }] });
    await expect(kit.get(ParcelsController).ship({ parcelId: 'P77' })).resolves.toEqual({ taskId: expect.any(String) });
  });
});
