import { Injectable } from '@nestjs/common';
import { httpStep, Step, StepContext, TaskerEvents, TaskHandler, StepFailedPayload } from 'nestjs-tasker';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { dropSchema, uniqueSchema } from '../support/database';
import { startApp, TestApp } from '../support/tasker-app';

@Injectable()
class PaymentApi {
  url = '';
}

@TaskHandler({ name: 'charge', namespace: 'http' })
class ChargeWorkflow {
  constructor(private readonly api: PaymentApi) {}

  @Step({ retryLimit: 3 })
  async charge(ctx: StepContext<{ amount: number }>) {
    const res = await httpStep<{ paymentId: string }>(ctx, `${this.api.url}/charges`, { json: { amount: ctx.task.context.amount } });
    return res.body;
  }
}

/** A step calling a rate-limited API: retried after the server's Retry-After, then complete. */
describe('httpStep inside a workflow', () => {
  const schema = uniqueSchema();
  let t: TestApp;
  let server: Server;
  const answers: [number, Record<string, string>, string][] = [];
  let calls = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      calls++;
      const [status, headers, body] = answers.shift() ?? [500, {}, 'unexpected call'];
      res.writeHead(status, headers);
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t = await startApp(schema, [PaymentApi, ChargeWorkflow]);
    t.get(PaymentApi).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((r) => server.close(() => r()));
    await dropSchema(schema);
  });

  it('429 + Retry-After: 1 → retried after one second → 200 completes the task', async () => {
    answers.push([429, { 'retry-after': '1' }, 'busy'], [200, { 'content-type': 'application/json' }, '{"paymentId":"p-1"}']);
    const task = await t.tasker.createTask({ name: 'charge', namespace: 'http', context: { amount: 5 } });
    const done = await t.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('complete');
    expect(done.steps[0]).toMatchObject({ attempts: 2, results: { paymentId: 'p-1' } });
    expect(calls).toBe(2);
    const failed = t.events.find((e) => e.event === TaskerEvents.STEP_FAILED && e.taskId === task.id) as StepFailedPayload;
    expect(failed).toMatchObject({ willRetry: true, error: { name: 'RetryableError', code: 'HTTP_429' } });
    // The retry time is the failure time plus the server's delay (a value check, not a speed check).
    const delay = failed.nextRetryAt!.getTime() - failed.occurredAt.getTime();
    expect(delay).toBeGreaterThan(900);
    expect(delay).toBeLessThan(1_500);
  });

  it('a 422 fails the step at once, without retry', async () => {
    answers.push([422, {}, '{"error":"card declined"}']);
    const before = calls;
    const task = await t.tasker.createTask({ name: 'charge', namespace: 'http', context: { amount: 5 } });
    const done = await t.tasker.waitForTask(task.id, { timeoutMs: 20_000 });
    expect(done.state).toBe('error');
    expect(done.steps[0]).toMatchObject({ attempts: 1, lastError: { name: 'PermanentError', code: 'HTTP_422' } });
    expect(calls - before).toBe(1);
  });
});
