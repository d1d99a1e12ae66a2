import { Injectable } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { Step, TaskerModule, TaskerService, TaskHandler } from 'nestjs-tasker';
import { TaskerAdminModule } from 'nestjs-tasker/admin';
import type { AddressInfo } from 'node:net';
import { Browser, Page } from 'playwright-core';
import { launchChromium, requireChromium } from '../support/browser';
import { configureAdminApp } from '../../src/configure-app';
import { dropSchema, uniqueSchema } from '../support/database';
import { testOptions } from '../support/tasker-app';
import { waitFor } from '../support/wait';

/**
 * Flow control on the operator dashboard (headless Chromium, real server, worker and Postgres): a
 * task's priority among its fields, and the readiness reason of a step held by a concurrency limit.
 */
const DASH = 'dash-secret-0123456789';

/** Holds the running `flow/throttled` task until the test opens it. */
@Injectable()
class ThrottleGate {
  open!: () => void;
  readonly promise = new Promise<void>((resolve) => (this.open = resolve));
}

/** One `flow/throttled` task in progress at a time (no key: one group for the type). */
@TaskHandler({ name: 'throttled', namespace: 'flow', version: '1', concurrency: { limit: 1 } })
class ThrottledWorkflow {
  constructor(private readonly gate: ThrottleGate) {}

  @Step()
  async call() {
    await this.gate.promise;
    return { ok: true };
  }
}

describe('operator dashboard: flow control (headless Chromium)', () => {
  const schema = uniqueSchema('dashfc');
  let app: NestExpressApplication | undefined;
  let browser: Browser | undefined;
  let tasker: TaskerService;
  let base: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requireChromium();
    const moduleRef = await Test.createTestingModule({
      imports: [
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
        TaskerModule.forRoot(testOptions(schema)),
        TaskerAdminModule.forRoot({ apiKeys: [{ name: 'dash', role: 'viewer', secret: DASH }] }),
      ],
      providers: [ThrottleGate, ThrottledWorkflow],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: ['error', 'warn'] });
    configureAdminApp(app);
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    tasker = app.get(TaskerService);
    browser = await launchChromium();
  });

  afterAll(async () => {
    app?.get(ThrottleGate).open();
    await browser?.close();
    await app?.close();
    await dropSchema(schema);
    expect(pageErrors).toEqual([]);
  });

  async function signIn(hash: string): Promise<Page> {
    const page = await (await browser!.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${m.text()}`);
    });
    await page.goto(`${base}/tasker/dashboard${hash}`);
    await page.fill('#api-key', DASH);
    await page.click('#login-submit');
    await page.locator('#whoami').waitFor({ state: 'visible' });
    return page;
  }

  it("shows a task's priority (not when 0) and why a step is held by a concurrency limit", async () => {
    const first = (await tasker.createTask({ name: 'throttled', namespace: 'flow', context: {} })).id;
    await waitFor('the first task running', async () => (await tasker.getTask(first)).steps[0].state === 'in_progress');
    const held = (await tasker.createTask({ name: 'throttled', namespace: 'flow', context: {}, priority: 7 })).id;
    const reason = 'concurrency limit (flow/throttled: 1/1 running)';
    await waitFor('the second task held by the limit', async () => (await tasker.getTask(held)).steps[0].readiness.reason === reason);

    const page = await signIn(`#task/${held}`);
    await page.locator('#task-state[data-state="pending"]').waitFor();
    expect(await page.textContent('#task-fields')).toContain('Priority7');
    const cell = page.locator('[data-testid="step-row"][data-step="call"] [data-testid="step-readiness"]');
    expect(await cell.textContent()).toBe(reason);
    expect(await cell.getAttribute('class')).toContain('held');
    // The graph node says it too.
    expect(await page.locator('[data-testid="graph-node"][data-step="call"]').textContent()).toContain('concurrency limit');

    await page.evaluate(`location.hash = '#task/${first}'`);
    await page.locator('#task-title', { hasText: `Task ${first}` }).waitFor();
    await page.locator('#task-state[data-state="in_progress"]').waitFor();
    expect(await page.textContent('#task-fields')).not.toContain('Priority');

    app!.get(ThrottleGate).open();
    for (const id of [first, held]) expect((await tasker.waitForTask(id, { timeoutMs: 30_000 })).state).toBe('complete');
  });
});
