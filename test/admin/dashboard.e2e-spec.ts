import { EventEmitterModule } from '@nestjs/event-emitter';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TaskerModule, TaskerService } from 'nestjs-tasker';
import { TaskerAdminModule } from 'nestjs-tasker/admin';
import type { AddressInfo } from 'node:net';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, requireChromium } from '../support/browser';
import { configureAdminApp } from '../../src/configure-app';
import { DECLINED, GreetingWorkflow, InvoiceWorkflow, PaymentSwitch } from '../fixtures/dashboard.workflow';
import { DYNAMIC_PROVIDERS, Gates } from '../fixtures/dynamic-admin.workflows';
import { ReportWithoutHourlyWorkflow as YearlyReportWorkflow } from '../fixtures/schedules.workflows';
import { dropSchema, uniqueSchema, withClient } from '../support/database';
import { testOptions } from '../support/tasker-app';
import { waitFor } from '../support/wait';

/**
 * The operator dashboard (GET /tasker/dashboard) in a real headless Chromium against a real HTTP
 * server, a real worker and real Postgres: sign-in, list and filters, a task with its graph,
 * steps, error and audit trail, and the operator actions under the role rules; dynamic workflows
 * (a signal sent from the page, map instances, skipped steps, parent and child links).
 */
const ALICE = 'alice-secret-0123456789';
const DASH = 'dash-secret-0123456789';
const SCREENSHOT = '/tmp/dashboard.png';
const SCREENSHOT_MAP = '/tmp/dashboard-map.png';

describe('operator dashboard (headless Chromium)', () => {
  const schema = uniqueSchema('dash');
  let app: NestExpressApplication | undefined;
  let browser: Browser | undefined;
  let tasker: TaskerService;
  let payments: PaymentSwitch;
  let gates: Gates | undefined;
  let base: string;
  let contexts: BrowserContext[] = [];
  /** Uncaught page errors and console errors (a CSP violation is one), per test. */
  let pageErrors: string[] = [];
  /** Every request any page made to somewhere other than our server. */
  const foreign: string[] = [];
  /** Every POST the pages sent, as "path". */
  let posts: string[] = [];
  let failedId: string;
  let okId: string;

  beforeAll(async () => {
    requireChromium();
    const moduleRef = await Test.createTestingModule({
      imports: [
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
        TaskerModule.forRoot(testOptions(schema)),
        TaskerAdminModule.forRoot({
          apiKeys: [
            { name: 'alice', role: 'operator', secret: ALICE },
            { name: 'dash', role: 'viewer', secret: DASH },
          ],
        }),
      ],
      providers: [PaymentSwitch, InvoiceWorkflow, GreetingWorkflow, YearlyReportWorkflow, ...DYNAMIC_PROVIDERS],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: ['error', 'warn'] });
    configureAdminApp(app);
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    tasker = app.get(TaskerService);
    payments = app.get(PaymentSwitch);
    gates = app.get(Gates);

    // Oldest first: a task that completes, then one whose charge_card step fails permanently.
    okId = (await tasker.createTask({ name: 'greeting', namespace: 'mail', context: { to: 'Ada' }, initiator: 'tests' })).id;
    failedId = (await tasker.createTask({ name: 'invoice', namespace: 'billing', context: { orderId: 'A-100' }, initiator: 'tests' })).id;
    expect((await tasker.waitForTask(okId, { timeoutMs: 30_000 })).state).toBe('complete');
    expect((await tasker.waitForTask(failedId, { timeoutMs: 30_000 })).state).toBe('error');

    browser = await launchChromium();
  });

  afterEach(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    contexts = [];
    const errors = pageErrors;
    pageErrors = [];
    posts = [];
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    gates?.openAll();
    await browser?.close();
    await app?.close();
    await dropSchema(schema);
    expect(foreign).toEqual([]);
  });

  async function newPage(): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 1400, height: 1000 } });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    // Chromium logs every 4xx response as a console error; those are expected here, anything else is not.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${m.text()}`);
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(`${base}/`) && !r.url().startsWith('data:')) foreign.push(r.url());
      if (r.method() === 'POST') posts.push(new URL(r.url()).pathname);
    });
    return page;
  }

  /** A fresh browser context signed in with `key`, opened at `hash` (the task list unless told). */
  async function signIn(key: string, hash = '#tasks'): Promise<Page> {
    const page = await newPage();
    await page.goto(`${base}/tasker/dashboard${hash}`);
    await page.fill('#api-key', key);
    await page.click('#login-submit');
    await page.locator('#whoami').waitFor({ state: 'visible' });
    return page;
  }

  /** Waits until `selector` matches exactly `n` elements. */
  async function waitForCount(page: Page, selector: string, n: number): Promise<void> {
    try {
      // A function, not a string: the page's CSP forbids eval, which a string predicate would need.
      await page.waitForFunction(([sel, count]) => (globalThis as any).document.querySelectorAll(sel).length === count, [selector, n] as const);
    } catch (e) {
      const now = await page.locator(selector).count();
      throw new Error(`Expected ${n} elements matching ${selector}, found ${now}: ${(e as Error).message}`, { cause: e });
    }
  }

  async function rowIds(page: Page): Promise<(string | null)[]> {
    const rows = await page.locator('[data-testid="task-row"]').all();
    return Promise.all(rows.map((r) => r.getAttribute('data-task-id')));
  }

  const taskState = (page: Page, state: string) => page.locator(`#task-state[data-state="${state}"]`).waitFor();
  const stepRow = (page: Page, step: string) => page.locator(`[data-testid="step-row"][data-step="${step}"]`);

  it('asks for an API key, refuses a wrong one, shows who is signed in, and signs out', async () => {
    const page = await newPage();
    const response = await page.goto(`${base}/tasker/dashboard`);
    expect(response?.headers()['content-security-policy']).toContain("connect-src 'self'");
    await page.locator('#login-form').waitFor({ state: 'visible' });

    await page.fill('#api-key', 'not-a-key-0123456789');
    await page.click('#login-submit');
    await page.locator('#login-message').waitFor({ state: 'visible' });
    expect(await page.textContent('#login-message')).toMatch(/not accepted: Invalid API key/);
    expect(await page.locator('#list-view').isVisible()).toBe(false);

    await page.fill('#api-key', ALICE);
    await page.click('#login-submit');
    await page.locator('#whoami').waitFor({ state: 'visible' });
    expect(await page.textContent('#whoami')).toBe('Signed in as alice operator');
    expect(await page.evaluate("sessionStorage.getItem('tasker.apiKey')")).toBe(ALICE);
    // The landing view is the failures inbox.
    await page.locator('#failures-view').waitFor({ state: 'visible' });

    // A key that stops working mid-session (rotated): back to the form, with the reason.
    await page.evaluate("sessionStorage.setItem('tasker.apiKey', 'rotated-key-0123456789')");
    await page.click('#refresh');
    await page.locator('#login-form').waitFor({ state: 'visible' });
    expect(await page.textContent('#login-message')).toBe('The API key was not accepted: Invalid API key. Enter a valid API key.');
    expect(await page.evaluate("sessionStorage.getItem('tasker.apiKey')")).toBeNull();
    await page.fill('#api-key', ALICE);
    await page.click('#login-submit');
    await page.locator('#whoami').waitFor({ state: 'visible' });

    await page.click('#signout');
    await page.locator('#login-form').waitFor({ state: 'visible' });
    expect(await page.evaluate("sessionStorage.getItem('tasker.apiKey')")).toBeNull();
    expect(await page.locator('#list-view').isVisible()).toBe(false);
  });

  it('an answer that arrives after sign-out is not drawn: no error, the sign-in form stays', async () => {
    const page = await newPage();
    // Counts the answers the page has read, once everything it does on reading one has run.
    await page.addInitScript(() => {
      const w = globalThis as any;
      const real = w.fetch.bind(w);
      w.__answered = 0;
      w.fetch = async (...args: unknown[]) => {
        const res = await real(...args);
        const text = res.text.bind(res);
        res.text = () => text().then((t: string) => (setTimeout(() => w.__answered++, 0), t));
        return res;
      };
    });
    // The failures inbox (the landing view) answers only once the operator has signed out.
    let release!: () => void;
    const signedOut = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    await page.route('**/tasker/failures', async (route) => {
      held++;
      const response = await route.fetch();
      await signedOut;
      await route.fulfill({ response });
    });
    await page.goto(`${base}/tasker/dashboard`);
    await page.fill('#api-key', ALICE);
    await page.click('#login-submit');
    await page.locator('#whoami').waitFor({ state: 'visible' });
    await waitFor('the failures request to be held', () => held === 1);
    await page.click('#signout');
    await page.locator('#login-form').waitFor({ state: 'visible' });
    release();
    // Two answers read: /me, then the held /failures.
    await page.waitForFunction(() => (globalThis as any).__answered === 2);
    expect(await page.locator('#login-form').isVisible()).toBe(true);
    expect(await page.locator('#failures-view').isVisible()).toBe(false);
    expect(await page.locator('[data-testid="failure-group"]').count()).toBe(0);
  });

  it('lists the tasks newest first with their type, state and times', async () => {
    const page = await signIn(ALICE);
    await waitForCount(page, '[data-testid="task-row"]', 2);
    expect(await rowIds(page)).toEqual([failedId, okId]);
    const failedRow = page.locator(`[data-testid="task-row"][data-task-id="${failedId}"]`);
    expect(await failedRow.getAttribute('data-state')).toBe('error');
    expect(await failedRow.textContent()).toContain('billing/invoice@1.0.0');
    expect(await failedRow.locator('.badge').textContent()).toBe('error');
    const okRow = page.locator(`[data-testid="task-row"][data-task-id="${okId}"]`);
    expect(await okRow.textContent()).toContain('mail/greeting@1.0.0');
    expect(await okRow.locator('.badge').getAttribute('data-state')).toBe('complete');
    expect(await page.textContent('#list-count')).toBe('2 tasks');
    expect(await page.locator('#load-more').isVisible()).toBe(false);
  });

  it('filters by state, by the failed quick filter, and by namespace; shows the API error for a bad filter', async () => {
    const page = await signIn(ALICE);
    await waitForCount(page, '[data-testid="task-row"]', 2);

    await page.selectOption('#filter-state', 'error');
    await waitForCount(page, '[data-testid="task-row"]', 1);
    expect(await rowIds(page)).toEqual([failedId]);

    await page.click('#filter-clear');
    await waitForCount(page, '[data-testid="task-row"]', 2);
    await page.click('#filter-failed');
    await waitForCount(page, '[data-testid="task-row"]', 1);
    expect(await rowIds(page)).toEqual([failedId]);
    expect(await page.inputValue('#filter-state')).toBe('error');

    await page.selectOption('#filter-state', 'complete');
    // One row before and after: wait for the new list's row, not for a count the old list already has.
    await waitForCount(page, `[data-testid="task-row"][data-task-id="${okId}"]`, 1);
    await waitForCount(page, '[data-testid="task-row"]', 1);
    expect(await rowIds(page)).toEqual([okId]);

    await page.click('#filter-clear');
    await page.fill('#filter-namespace', 'billing');
    await page.press('#filter-namespace', 'Enter');
    await waitForCount(page, `[data-testid="task-row"][data-task-id="${okId}"]`, 0);
    expect(await rowIds(page)).toEqual([failedId]);

    await page.fill('#filter-namespace', 'no such namespace!');
    await page.click('#filter-apply');
    await page.locator('#list-message').waitFor({ state: 'visible' });
    expect(await page.textContent('#list-message')).toMatch(/^400 Bad Request: .*namespace must be a namespace name/);
  });

  it('opens a task: fields, context, the DAG as SVG with each step state, steps and the failed step error', async () => {
    const page = await signIn(ALICE);
    await page.click(`[data-testid="task-row"][data-task-id="${failedId}"] td:nth-child(2)`);
    await taskState(page, 'error');
    expect(await page.evaluate('location.hash')).toBe(`#task/${failedId}`);
    expect(await page.textContent('#task-title')).toBe(`Task ${failedId}`);
    expect(await page.textContent('#task-type')).toBe('billing/invoice@1.0.0');
    expect(JSON.parse((await page.textContent('#task-context'))!)).toEqual({ orderId: 'A-100' });
    expect(await page.textContent('#task-fields')).toContain('Initiatortests');

    await waitForCount(page, '[data-testid="graph-node"]', 4);
    const nodes = await page.locator('[data-testid="graph-node"]').all();
    const states: Record<string, string | null> = {};
    for (const n of nodes) states[(await n.getAttribute('data-step'))!] = await n.getAttribute('data-state');
    expect(states).toEqual({ fetch_order: 'complete', charge_card: 'error', reserve_stock: 'complete', send_receipt: 'pending' });
    expect(await page.locator('#task-graph path.edge').count()).toBe(4);
    // Layered by longest path: fetch_order, then charge_card and reserve_stock side by side, then send_receipt.
    const x = async (step: string) => (await page.locator(`[data-testid="graph-node"][data-step="${step}"]`).boundingBox())!.x;
    const [x0, x1a, x1b, x2] = [await x('fetch_order'), await x('charge_card'), await x('reserve_stock'), await x('send_receipt')];
    expect(x1a).toBe(x1b);
    expect(x0 < x1a && x1a < x2).toBe(true);

    await waitForCount(page, '[data-testid="step-row"]', 4);
    expect(await stepRow(page, 'charge_card').getAttribute('data-state')).toBe('error');
    expect(await stepRow(page, 'charge_card').locator('[data-testid="step-attempts"]').textContent()).toBe('1/3');
    expect(await stepRow(page, 'send_receipt').textContent()).toContain('charge_card, reserve_stock');
    expect(await stepRow(page, 'send_receipt').textContent()).toContain('waiting for dependencies');
    const error = page.locator('[data-testid="step-error"][data-step="charge_card"]');
    // The message has markup in it: shown as text, never parsed.
    expect(await error.locator('[data-testid="step-error-message"]').textContent()).toBe(DECLINED);
    expect(await page.locator('#steps-body b').count()).toBe(0);
    expect(await error.textContent()).toContain('CARD_DECLINED');
    expect(await error.locator('details pre').isVisible()).toBe(false);
    await error.locator('details summary').click();
    expect(await error.locator('details pre').textContent()).toContain('PermanentError');
    // Results of a completed step, collapsed.
    await stepRow(page, 'fetch_order').locator('details summary').click();
    expect(JSON.parse((await stepRow(page, 'fetch_order').locator('details pre').textContent())!)).toEqual({ orderId: 'A-100', amountCents: 4200 });

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('a shared #task/<id> link opens the task directly, with its audit trail', async () => {
    const page = await signIn(ALICE, `#task/${failedId}`);
    await taskState(page, 'error');
    const failedTransition = page.locator('[data-testid="audit-row"][data-step="charge_card"][data-to="error"]');
    await failedTransition.waitFor();
    expect(await failedTransition.textContent()).toContain(`PermanentError: ${DECLINED}`);
    expect(await page.locator('[data-testid="audit-row"][data-step=""][data-to="error"]').count()).toBe(1);

    await page.click('#back');
    await waitForCount(page, '[data-testid="task-row"]', 2);
    expect(await page.locator('#task-view').isVisible()).toBe(false);
  });

  it('a link to a task that does not exist says so, shows no empty panels, and auto-refresh stops asking', async () => {
    const page = await newPage();
    // Counts the fetches the page starts (synchronously, so a count read right after an event is exact).
    await page.addInitScript(() => {
      const w = globalThis as any;
      const real = w.fetch.bind(w);
      w.__fetches = [] as string[];
      w.fetch = (url: string, init: unknown) => (w.__fetches.push(String(url)), real(url, init));
    });
    await page.goto(`${base}/tasker/dashboard#task/999999999`);
    await page.fill('#api-key', ALICE);
    await page.click('#login-submit');
    await page.locator('#task-message').waitFor({ state: 'visible' });
    expect(await page.textContent('#task-message')).toMatch(/^404 Not Found: .*999999999/);
    expect(await page.locator('#task-body').isVisible()).toBe(false);
    expect(await page.textContent('#task-type')).toBe('');
    const asked = () => page.evaluate(() => ((globalThis as any).__fetches as string[]).filter((u) => u.includes('/tasks/999999999')).length);
    expect(await asked()).toBe(3); // the task, its graph, its audit trail
    // An auto-refresh tick (the page also ticks when it becomes visible) does not ask again,
    // though nothing else stops it: the page is visible, auto-refresh is on, no dialog is open...
    expect(await page.evaluate(() => (globalThis as any).document.visibilityState)).toBe('visible');
    expect(await page.isChecked('#auto-refresh')).toBe(true);
    await page.evaluate(() => (globalThis as any).document.dispatchEvent(new Event('visibilitychange')));
    expect(await asked()).toBe(3);
    // ...the Refresh button does, and a task that exists then shows its panels again.
    await page.click('#refresh');
    expect(await asked()).toBe(6);
    await page.goto(`${base}/tasker/dashboard#task/${okId}`);
    await taskState(page, 'complete');
    expect(await page.locator('#task-body').isVisible()).toBe(true);
    expect(await page.locator('#task-message').isVisible()).toBe(false);
  });

  it('as a viewer, Retry, Cancel and Resolve are not usable', async () => {
    const page = await signIn(DASH, `#task/${failedId}`);
    expect(await page.textContent('#whoami')).toBe('Signed in as dash viewer');
    await taskState(page, 'error');
    await stepRow(page, 'charge_card').waitFor();
    expect(await page.isDisabled('#retry-task')).toBe(true);
    expect(await page.getAttribute('#retry-task', 'title')).toMatch(/viewer role/);
    expect(await page.isDisabled('#cancel-task')).toBe(true);
    expect(await page.isDisabled('[data-testid="resolve-step"][data-step="charge_card"]')).toBe(true);
    expect(await page.locator('#readonly-note').isVisible()).toBe(true);

    await page.click('#retry-task', { force: true });
    expect(await page.locator('#action-dialog').isVisible()).toBe(false);
    expect(posts).toEqual([]);
    expect((await tasker.getTask(failedId)).state).toBe('error');
  });

  it('as an operator, Retry after the fix completes the task, the audit trail names alice, and the complete task offers no Retry', async () => {
    payments.fix('A-100');
    const page = await signIn(ALICE, `#task/${failedId}`);
    await taskState(page, 'error');
    expect(await page.isDisabled('#retry-task')).toBe(false);

    await page.click('#retry-task');
    await page.locator('#action-dialog').waitFor({ state: 'visible' });
    await page.fill('#action-reason', 'provider fixed');
    await page.click('#action-confirm');
    await page.locator('#action-dialog').waitFor({ state: 'hidden' });
    expect(posts).toEqual([`/tasker/tasks/${failedId}/retry`]);
    expect(await page.textContent('#action-message')).toBe('Retry requested. Reason: provider fixed');

    // The worker runs charge_card and send_receipt; the page sees it by itself (auto-refresh).
    await taskState(page, 'complete');
    await page.locator('[data-testid="graph-node"][data-step="send_receipt"][data-state="complete"]').waitFor();
    for (const n of await page.locator('[data-testid="graph-node"]').all()) expect(await n.getAttribute('data-state')).toBe('complete');
    const byAlice = page.locator('[data-testid="audit-row"]').filter({ has: page.locator('[data-testid="audit-actor"]', { hasText: 'alice' }) });
    await waitForCount(page, '[data-testid="audit-row"][data-to="complete"][data-step=""]', 1);
    expect(await byAlice.count()).toBe(2);
    for (const row of await byAlice.all()) expect(await row.textContent()).toContain('provider fixed');
    expect((await tasker.getTask(failedId)).state).toBe('complete');

    // Only a task in error can be retried, only an unfinished one cancelled: a complete task offers neither.
    expect(await page.locator('#retry-task').isVisible()).toBe(false);
    expect(await page.locator('#cancel-task').isVisible()).toBe(false);
  });

  it('Resolve: invalid JSON is reported before sending; given results complete the task and reach the dependents', async () => {
    const id = (await tasker.createTask({ name: 'invoice', namespace: 'billing', context: { orderId: 'C-300' } })).id;
    expect((await tasker.waitForTask(id, { timeoutMs: 30_000 })).state).toBe('error');
    const page = await signIn(ALICE, `#task/${id}`);
    await taskState(page, 'error');

    await page.click('[data-testid="resolve-step"][data-step="charge_card"]');
    await page.locator('#action-results').waitFor({ state: 'visible' });
    await page.fill('#action-results', '{ chargeId: ');
    await page.click('#action-confirm');
    await page.locator('#action-error').waitFor({ state: 'visible' });
    expect(await page.textContent('#action-error')).toMatch(/^Results are not valid JSON \(nothing was sent\)/);
    expect(posts).toEqual([]);

    await page.fill('#action-results', '{ "chargeId": "manual-77" }');
    await page.fill('#action-reason', 'charged by phone');
    await page.click('#action-confirm');
    await page.locator('#action-dialog').waitFor({ state: 'hidden' });
    expect(posts).toEqual([`/tasker/tasks/${id}/steps/charge_card/resolve`]);
    await taskState(page, 'complete');
    await stepRow(page, 'charge_card').and(page.locator('[data-state="resolved_manually"]')).waitFor();
    const done = await tasker.getTask(id);
    expect(done.steps.find((s) => s.name === 'send_receipt')?.results).toEqual({ sent: true, chargeId: 'manual-77' });
    const resolved = page.locator('[data-testid="audit-row"][data-step="charge_card"][data-to="resolved_manually"]');
    expect(await resolved.textContent()).toContain('alice');
    expect(await resolved.textContent()).toContain('charged by phone');
  });

  it('pages through a long list with "load more"', async () => {
    await tasker.createTasks(Array.from({ length: 30 }, (_, i) => ({ name: 'greeting', namespace: 'mail', context: { to: `n${i}` } })));
    const page = await signIn(ALICE);
    await page.fill('#filter-namespace', 'mail');
    await page.click('#filter-apply');
    await waitForCount(page, '[data-testid="task-row"]', 25);
    await page.locator('#load-more').waitFor({ state: 'visible' });
    const first = await rowIds(page);
    await page.click('#load-more');
    await waitForCount(page, '[data-testid="task-row"]', 31);
    const all = await rowIds(page);
    expect(all.slice(0, 25)).toEqual(first);
    expect(new Set(all).size).toBe(31);
    expect(all[30]).toBe(okId);
    expect(await page.locator('#load-more').isVisible()).toBe(false);
  });

  // The dynamic-workflow tests come last: the tests above count every task of the list.

  /** Waits until step `name` of task `id` is in `state` (through the service, not the page). */
  const stepInState = (id: string, name: string, state: string) =>
    waitFor(`step ${name} of task ${id} to be ${state}`, async () => (await tasker.getTask(id)).steps.find((s) => s.name === name && s.state === state));

  it('a task waiting for a signal: the page says so, the operator sends it with a payload and a reason, the task completes, the audit names the sender', async () => {
    const id = (await tasker.createTask({ name: 'approval', namespace: 'ops', context: {} })).id;
    await stepInState(id, 'ask', 'waiting');

    // A viewer sees why it waits, but cannot send the signal.
    const viewer = await signIn(DASH, `#task/${id}`);
    await stepRow(viewer, 'ask').and(viewer.locator('[data-state="waiting"]')).waitFor();
    expect(await stepRow(viewer, 'ask').locator('[data-testid="step-readiness"]').textContent()).toBe('waiting for signal "approved"');
    expect(await viewer.isDisabled('[data-testid="signal-step"][data-step="ask"]')).toBe(true);
    expect(await viewer.getAttribute('[data-testid="signal-step"][data-step="ask"]', 'title')).toMatch(/viewer role/);

    const page = await signIn(ALICE, `#task/${id}`);
    await taskState(page, 'in_progress');
    const ask = stepRow(page, 'ask');
    await ask.and(page.locator('[data-state="waiting"]')).waitFor();
    expect(await ask.locator('.badge').textContent()).toBe('waiting');
    expect(await ask.locator('[data-testid="step-readiness"]').textContent()).toBe('waiting for signal "approved"');
    const node = page.locator('[data-testid="graph-node"][data-step="ask"]');
    expect(await node.getAttribute('data-state')).toBe('waiting');
    expect(await node.locator('[data-testid="graph-node-detail"]').textContent()).toBe('waiting for signal "approved"');
    // The legend lists the two new states with the others.
    expect(await page.locator('#state-legend .badge').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')))).toEqual([
      'pending', 'in_progress', 'complete', 'error', 'cancelled', 'resolved_manually', 'skipped', 'waiting',
    ]);
    // A waiting step may also be resolved by hand; a pending one after it too.
    expect(await ask.locator('[data-testid="resolve-step"]').count()).toBe(1);

    await page.click('[data-testid="signal-step"][data-step="ask"]');
    await page.locator('#action-payload').waitFor({ state: 'visible' });
    expect(await page.textContent('#action-title')).toBe(`Send signal "approved" to task ${id}`);
    expect(await page.locator('#action-results').isVisible()).toBe(false);
    await page.fill('#action-payload', '{ approvedBy: ');
    await page.click('#action-confirm');
    await page.locator('#action-error').waitFor({ state: 'visible' });
    expect(await page.textContent('#action-error')).toMatch(/^The payload is not valid JSON \(nothing was sent\)/);
    expect(posts).toEqual([]);

    await page.fill('#action-payload', '{ "approvedBy": "alice", "limit": 500 }');
    await page.fill('#action-reason', 'budget ok');
    await page.click('#action-confirm');
    await page.locator('#action-dialog').waitFor({ state: 'hidden' });
    expect(posts).toEqual([`/tasker/tasks/${id}/signals/approved`]);
    expect(await page.textContent('#action-message')).toBe('Signal "approved" sent (ask). Reason: budget ok');

    // The worker runs pay; the page sees it by itself.
    await taskState(page, 'complete');
    await stepRow(page, 'pay').and(page.locator('[data-state="complete"]')).waitFor();
    expect(await page.locator('[data-testid="signal-step"]').count()).toBe(0);
    const signalled = page.locator('[data-testid="audit-row"][data-step="ask"][data-to="complete"]');
    await signalled.waitFor();
    expect(await signalled.locator('[data-testid="audit-actor"]').textContent()).toBe('alice');
    expect(await signalled.textContent()).toContain('signal "approved": budget ok');
    expect((await tasker.getTask(id)).steps.find((s) => s.name === 'pay')?.results).toEqual({ approvedBy: { approvedBy: 'alice', limit: 500 } });
  });

  it('a map step is one row with its counts; opened, it lists its instances with their errors, expands them in the graph, and a failed one is resolved', async () => {
    const id = (await tasker.createTask({ name: 'thumbs', namespace: 'ops', context: { items: ['a', 'fail:b', 'hold:dash-map'] } })).id;
    await waitFor('1 done, 1 running, 1 failed', async () => {
      const r = (await tasker.getTask(id)).steps.find((s) => s.name === 'resize');
      return r?.instances?.done === 1 && r.instances.running === 1 && r.instances.failed === 1;
    });
    const page = await signIn(ALICE, `#task/${id}`);
    const resize = stepRow(page, 'resize');
    await resize.and(page.locator('[data-state="error"]')).waitFor();
    expect(await resize.locator('[data-testid="instance-counts"]').textContent()).toBe('1 done, 1 running, 1 failed');
    expect(await resize.locator('[data-testid="resolve-step"]').count()).toBe(0);
    expect(await page.locator('[data-testid="instance-row"]').count()).toBe(0);
    await waitForCount(page, '[data-testid="graph-node"]', 3);
    expect(await page.locator('[data-testid="graph-node"][data-step="resize"] [data-testid="graph-node-detail"]').textContent()).toBe('1 done, 1 running, 1 failed');

    await resize.locator('[data-testid="instances-toggle"]').click();
    await waitForCount(page, '[data-testid="instance-row"]', 3);
    const failed = page.locator('[data-testid="instance-row"][data-step="resize[1]"]');
    expect(await failed.getAttribute('data-state')).toBe('error');
    const error = page.locator('[data-testid="step-error"][data-step="resize[1]"]');
    expect(await error.locator('[data-testid="step-error-message"]').textContent()).toBe('cannot resize b');
    expect(await error.textContent()).toContain('BAD_IMAGE');
    // The graph shows the instances too, linked from their map step.
    await waitForCount(page, '[data-testid="graph-node"]', 6);
    expect(await page.locator('#task-graph path.edge.instance').count()).toBe(3);
    await page.screenshot({ path: SCREENSHOT_MAP, fullPage: true });
    // The state filter narrows steps and instances.
    await page.selectOption('#step-filter', 'error');
    await waitForCount(page, '[data-testid="instance-row"]', 1);
    expect(await page.locator('[data-testid="step-row"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')))).toEqual(['resize']);

    await failed.locator('[data-testid="resolve-step"]').click();
    await page.fill('#action-results', '"b-by-hand"');
    await page.click('#action-confirm');
    await page.locator('#action-dialog').waitFor({ state: 'hidden' });
    expect(posts).toEqual([`/tasker/tasks/${id}/steps/resize%5B1%5D/resolve`]);
    await page.selectOption('#step-filter', '');
    await page.locator('[data-testid="instance-row"][data-step="resize[1]"][data-state="resolved_manually"]').waitFor();
    gates!.open('dash-map');
    await taskState(page, 'complete');
    expect((await tasker.getTask(id)).steps.find((s) => s.name === 'zip')?.results).toEqual({ files: ['a@0', 'b-by-hand', 'hold:dash-map@2'] });
    await page.locator('[data-testid="step-row"][data-step="resize"] [data-testid="instance-counts"]', { hasText: '3 done' }).waitFor();
  });

  it('skipped steps say why; a step waiting for a child task links to it, and the child links back to its parent', async () => {
    const ship = (await tasker.createTask({ name: 'shipping', namespace: 'ops', context: { express: false } })).id;
    expect((await tasker.waitForTask(ship, { timeoutMs: 30_000 })).state).toBe('complete');
    const page = await signIn(ALICE, `#task/${ship}`);
    await taskState(page, 'complete');
    await stepRow(page, 'express').and(page.locator('[data-state="skipped"]')).waitFor();
    expect(await stepRow(page, 'express').locator('[data-testid="step-readiness"]').textContent()).toBe('condition false');
    expect(await stepRow(page, 'track').locator('[data-testid="step-readiness"]').textContent()).toBe('all parents skipped');
    expect(await page.locator('[data-testid="graph-node"][data-step="express"]').getAttribute('data-state')).toBe('skipped');

    const order = (await tasker.createTask({ name: 'order', namespace: 'ops', context: { amount: 5, gate: 'dash-child' } })).id;
    const child = (await stepInState(order, 'pay', 'waiting')).waitingFor as { kind: 'child'; taskId: string };
    await page.evaluate(`location.hash = '#task/${order}'`);
    const link = stepRow(page, 'pay').locator('[data-testid="child-link"]');
    await link.waitFor();
    expect(await stepRow(page, 'pay').locator('[data-testid="step-readiness"]').textContent()).toBe(`waiting for child task ${child.taskId}`);
    await link.click();
    await page.locator('#task-title', { hasText: `Task ${child.taskId}` }).waitFor();
    expect(await page.evaluate('location.hash')).toBe(`#task/${child.taskId}`);
    const parent = page.locator('[data-testid="parent-link"]');
    await parent.waitFor();
    expect(await parent.textContent()).toBe(`Task ${order}`);
    expect(await page.textContent('#task-fields')).toContain(`Parent taskTask ${order} (step pay)`);
    gates!.open('dash-child');
    await taskState(page, 'complete');
    await parent.click();
    await page.locator('#task-title', { hasText: `Task ${order}` }).waitFor();
    await taskState(page, 'complete');
  });

  it('schedules: listed with next and last runs and a link to the last task; a viewer cannot pause, an operator pauses with a reason and resumes', async () => {
    const row = (page: Page) => page.locator('[data-testid="schedule-row"][data-name="report"][data-cron="0 0 1 1 *"]');
    const viewer = await signIn(DASH);
    await viewer.click('[data-testid="nav-schedules"]');
    await row(viewer).waitFor();
    expect(await row(viewer).getAttribute('data-paused')).toBe('false');
    expect(await row(viewer).locator('td').first().textContent()).toBe('sched/report@1.0.0');
    expect(await row(viewer).locator('[data-testid="schedule-cron"]').textContent()).toBe('0 0 1 1 *');
    expect(await row(viewer).textContent()).toContain('Europe/Berlin');
    expect(await row(viewer).locator('[data-testid="schedule-last-task"]').count()).toBe(0);
    expect(await viewer.isDisabled('[data-testid="schedule-pause"][data-name="report"]')).toBe(true);
    expect(await viewer.locator('#schedules-readonly').isVisible()).toBe(true);

    // As after downtime: its last tick was missed; the worker fires it, the page shows the task by itself (auto-refresh).
    await withClient((c) => c.query(`UPDATE "${schema}".schedules SET next_run_at = now() - interval '2 years' WHERE cron = '0 0 1 1 *'`));
    const fired = await waitFor('the schedule to fire', async () => (await tasker.listSchedules({ name: 'report', namespace: 'sched' }))[0].lastTaskId ?? undefined);
    const link = row(viewer).locator('[data-testid="schedule-last-task"]');
    await link.waitFor();
    expect(await link.textContent()).toBe(fired);
    await link.click();
    await viewer.locator('#task-title', { hasText: `Task ${fired}` }).waitFor();
    await viewer.locator('#task-type', { hasText: 'sched/report@1.0.0' }).waitFor();
    expect(await viewer.textContent('#task-fields')).toContain('Initiatorschedule');

    const page = await signIn(ALICE, '#schedules');
    await row(page).waitFor();
    await page.click('[data-testid="schedule-pause"][data-name="report"]');
    await page.locator('#schedule-dialog').waitFor({ state: 'visible' });
    await page.fill('#schedule-reason', 'year-end audit');
    await page.click('#schedule-confirm');
    await page.locator('#schedule-dialog').waitFor({ state: 'hidden' });
    expect(posts).toEqual(['/tasker/schedules/pause']);
    await page.locator('[data-testid="schedule-row"][data-name="report"][data-paused="true"]').waitFor();
    expect(await page.textContent('#schedule-action-message')).toBe('Schedule "0 0 1 1 *" of sched/report paused. Reason: year-end audit');
    expect(await row(page).locator('[data-testid="schedule-state"]').textContent()).toBe('paused');
    expect(await row(page).locator('[data-testid="schedule-change"]').textContent()).toMatch(/^paused by alice .*: year-end audit$/);
    expect((await tasker.listSchedules({ name: 'report', namespace: 'sched' }))[0]).toMatchObject({ paused: true, lastChange: { actor: 'alice', reason: 'year-end audit' } });

    await page.click('[data-testid="schedule-resume"][data-name="report"]');
    await page.click('#schedule-confirm');
    await page.locator('[data-testid="schedule-row"][data-name="report"][data-paused="false"]').waitFor();
    expect(posts).toEqual(['/tasker/schedules/pause', '/tasker/schedules/resume']);
    expect(await row(page).locator('[data-testid="schedule-change"]').textContent()).toMatch(/^resumed by alice /);
  });
});
