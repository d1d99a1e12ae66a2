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
import { dropSchema, uniqueSchema } from '../support/database';
import { testOptions } from '../support/tasker-app';

/**
 * The dashboard as a first-time operator uses it (headless Chromium, real server, worker and
 * Postgres): the failures inbox and a whole class of failures recovered from it, the task list's
 * counts, failing steps and shareable filters, actions offered by state, error history and the
 * audit trail's precision, the workers and task types pages, and the layout from 390 to 1920 px.
 * With TASKER_SCREENSHOTS=1 it writes the screenshots of docs/operations.md (docs/images/).
 */
const ALICE = 'alice-secret-0123456789';
const DASH = 'dash-secret-0123456789';
const SHOTS = process.env.TASKER_SCREENSHOTS === '1';

describe('operator dashboard: failures inbox and operations (headless Chromium)', () => {
  const schema = uniqueSchema('dashops');
  let app: NestExpressApplication | undefined;
  let browser: Browser | undefined;
  let tasker: TaskerService;
  let payments: PaymentSwitch;
  let base: string;
  let contexts: BrowserContext[] = [];
  let pageErrors: string[] = [];
  /** Every POST the pages sent, as "path body". */
  let posts: string[] = [];
  /** The three orders that fail alike, and their tasks. */
  const failing = ['O-07', 'O-15', 'O-23'];
  let failedIds: string[] = [];
  /** Tasks that completed at once (what the layout tests open). */
  let okIds: string[] = [];

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
      providers: [PaymentSwitch, InvoiceWorkflow, GreetingWorkflow],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: ['error', 'warn'] });
    configureAdminApp(app);
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    tasker = app.get(TaskerService);
    payments = app.get(PaymentSwitch);

    // 30 invoices; the provider declines 3 of them alike (CARD_DECLINED at charge_card).
    const orders = Array.from({ length: 30 }, (_, i) => `O-${String(i + 1).padStart(2, '0')}`);
    for (const o of orders) if (!failing.includes(o)) payments.fix(o);
    const tasks = await tasker.createTasks(orders.map((orderId) => ({ name: 'invoice', namespace: 'billing', context: { orderId }, initiator: 'shop' })));
    const done = await Promise.all(tasks.map((t) => tasker.waitForTask(t.id, { timeoutMs: 60_000 })));
    failedIds = done.filter((t) => t.state === 'error').map((t) => t.id);
    okIds = done.filter((t) => t.state === 'complete').map((t) => t.id);
    expect(failedIds).toHaveLength(3);

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
    await browser?.close();
    await app?.close();
    await dropSchema(schema);
  });

  async function newPage(width = 1400, height = 1000): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width, height }, timezoneId: 'Europe/Berlin' });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${m.text()}`);
    });
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(`${new URL(r.url()).pathname} ${r.postData() ?? ''}`);
    });
    return page;
  }

  async function signIn(key: string, hash = '', width?: number): Promise<Page> {
    const page = await newPage(width);
    await page.goto(`${base}/tasker/dashboard${hash}`);
    await page.fill('#api-key', key);
    await page.click('#login-submit');
    await page.locator('#whoami').waitFor({ state: 'visible' });
    return page;
  }

  async function shot(page: Page, name: string, fullPage = true): Promise<void> {
    if (SHOTS) await page.screenshot({ path: `docs/images/${name}.png`, fullPage });
  }

  const group = (page: Page) => page.locator('[data-testid="failure-group"][data-step="charge_card"][data-code="CARD_DECLINED"]');

  // Actions, counted as an operator makes them (typing a field is one, a click is one): 1 type the key,
  // 2 sign in (the inbox shows the group of 3, its step and error), 3 Retry all, 4 type a reason,
  // 5 confirm; the page follows the 3 tasks until all are complete; 6 open one: its audit trail has
  // the retry. Fixing the cause (here: the provider) is outside the page. Six actions for 3 tasks or 3,000.
  it('the story in 6 actions: landing on the failures inbox, retry all 3 with a reason, all complete, the retry in the audit trail', async () => {
    const page = await newPage();
    await page.goto(`${base}/tasker/dashboard`);
    await page.fill('#api-key', ALICE); // 1
    await page.click('#login-submit'); // 2
    await group(page).waitFor();
    expect(await page.evaluate('location.hash')).toBe('');
    expect(await page.locator('[data-testid="failure-group"]').count()).toBe(1);
    expect(await group(page).getAttribute('data-name')).toBe('invoice');
    expect(await group(page).locator('[data-testid="failure-count"]').textContent()).toBe('3');
    expect(await group(page).locator('[data-testid="failure-error"]').textContent()).toBe(`${DECLINED}CARD_DECLINED`);
    expect(await group(page).textContent()).toContain('billing/invoice@1.0.0');
    expect(await group(page).locator('[data-testid="failure-sample"]').count()).toBe(3);
    await shot(page, 'dashboard-failures');

    for (const o of failing) payments.fix(o); // the cause, fixed outside the page
    await group(page).locator('[data-testid="retry-all"]').click(); // 3
    await page.locator('#bulk-dialog').waitFor({ state: 'visible' });
    expect(await page.textContent('#bulk-title')).toBe('Retry 3 tasks of billing/invoice@1.0.0 failed at step "charge_card"');
    await page.fill('#bulk-reason', 'provider fixed the declines'); // 4
    await page.click('#bulk-confirm'); // 5
    await page.locator('#bulk-dialog').waitFor({ state: 'hidden' });
    expect(posts).toHaveLength(1);
    const [path, body] = [posts[0].slice(0, posts[0].indexOf(' ')), JSON.parse(posts[0].slice(posts[0].indexOf(' ') + 1))];
    expect(path).toBe('/tasker/tasks/retry');
    expect(body).toEqual({
      filter: { state: 'error', namespace: 'billing', name: 'invoice', version: '1.0.0', stepName: 'charge_card', code: 'CARD_DECLINED' },
      reason: 'provider fixed the declines',
    });
    expect(await page.textContent('[data-testid="bulk-result"] div')).toBe('Retried 3 tasks of billing/invoice (step charge_card). Reason: provider fixed the declines');
    // The page follows the retried tasks by itself (auto-refresh) until all are complete.
    await page.locator('[data-testid="bulk-progress"]', { hasText: 'Now: 3 complete' }).waitFor();
    // Nothing between the summary and the progress (a retry that failed again would say so there).
    expect(await page.textContent('#bulk-result')).toContain('provider fixed the declinesNow: 3 complete');
    await page.locator('[data-testid="no-failures"]').waitFor();
    await shot(page, 'dashboard-bulk-retry');
    for (const id of failedIds) expect((await tasker.getTask(id)).state).toBe('complete');

    await page.click(`[data-testid="bulk-task"][data-state="complete"] >> nth=0`); // 6
    await page.locator('#task-state[data-state="complete"]').waitFor();
    const retried = page.locator('[data-testid="audit-row"][data-step=""][data-to="pending"][data-operator="true"]').filter({ hasText: 'alice' });
    await retried.waitFor();
    expect(await retried.locator('[data-testid="audit-actor"]').textContent()).toBe('alice');
    expect(await retried.textContent()).toContain('provider fixed the declines');
    await shot(page, 'dashboard-task-after-retry');
  });

  it('after the retry: the old error is history (not a red box under a green step), named once; the audit shows ms and the zone, marks operators, numbers attempts on', async () => {
    // Continues the story: a task it retried.
    const id = failedIds[0];
    const page = await signIn(ALICE, `#task/${id}`);
    await page.locator('#task-state[data-state="complete"]').waitFor();
    const error = page.locator('[data-testid="step-error"][data-step="charge_card"]');
    expect(await error.getAttribute('data-history')).toBe('true');
    expect(await error.getAttribute('class')).toBe('error-box history');
    expect(await error.textContent()).toMatch(/^Earlier error, before it completed: PermanentError: /);
    expect(await error.textContent()).not.toMatch(/Error: Error|Error: PermanentError/);
    // Complete: neither Retry nor Cancel is offered.
    expect(await page.locator('#retry-task').isVisible()).toBe(false);
    expect(await page.locator('#cancel-task').isVisible()).toBe(false);

    expect(await page.textContent('[data-testid="audit-zone"]')).toMatch(/^Times in Europe\/Berlin, UTC\+0[12]:00, to the millisecond$/);
    for (const at of await page.locator('[data-testid="audit-at"]').allTextContents()) expect(at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+0[12]:00$/);
    // alice's retry is marked (on the task and its failed step); the creation by "shop" and the worker's entries are not.
    const marks = await page.locator('[data-testid="audit-row"]').evaluateAll((rows) =>
      rows.map((r) => [r.getAttribute('data-step'), r.getAttribute('data-to'), r.getAttribute('data-operator')].join(' ')));
    expect(marks.filter((m) => m.endsWith(' true'))).toEqual([' pending true', 'charge_card pending true']);
    // charge_card: attempt 1 failed for good, the retry's first attempt is its second, not a second "1".
    const attempts = await page.locator('[data-testid="audit-row"][data-step="charge_card"]').evaluateAll((rows) =>
      rows.map((r) => `${r.getAttribute('data-to')}:${r.querySelector('[data-testid="audit-attempt"]')!.textContent}`));
    expect(attempts).toEqual(['in_progress:1', 'error:1', 'pending:', 'in_progress:2', 'complete:2']);
  });

  it('the task list: counts by state on top, the failing step and error of a failed task, filters in the URL that another tab opens as they were', async () => {
    const id = (await tasker.createTask({ name: 'invoice', namespace: 'billing', context: { orderId: 'X-1' } })).id;
    expect((await tasker.waitForTask(id, { timeoutMs: 30_000 })).state).toBe('error');
    // After the story: 30 complete, 1 in error (this one); run alone, 27 and 4.
    const { tasks: counts } = await tasker.stats();
    const page = await signIn(DASH, '#tasks');
    const count = (st: string) => page.locator(`[data-testid="state-count"][data-state="${st}"] .n`);
    await count('complete').and(page.locator('.n', { hasText: new RegExp(`^${counts.complete}$`) })).waitFor();
    expect(await count('error').textContent()).toBe(String(counts.error));
    expect(counts.complete + counts.error).toBe(31);
    const row = page.locator(`[data-testid="task-row"][data-task-id="${id}"]`);
    await row.locator('[data-testid="failing-step"]').waitFor();
    expect(await row.locator('[data-testid="failing-step"]').textContent()).toBe('charge_card');
    expect(await row.locator('[data-testid="failing-error"]').textContent()).toBe(`PermanentError: ${DECLINED} [CARD_DECLINED]`);
    // A complete task has no failing cell content.
    expect(await page.locator('[data-testid="task-row"][data-state="complete"] [data-testid="failing-step"]').count()).toBe(0);

    // A count filters the list; the filters are in the URL.
    await page.click('[data-testid="state-count"][data-state="error"]');
    await page.waitForFunction((n) => (globalThis as any).document.querySelectorAll('[data-testid="task-row"][data-state="error"]').length === n &&
      (globalThis as any).document.querySelectorAll('[data-testid="task-row"]').length === n, counts.error);
    await page.fill('#filter-namespace', 'billing');
    await page.click('#filter-apply');
    await page.waitForFunction(() => (globalThis as any).location.hash === '#tasks?state=error&namespace=billing');
    await shot(page, 'dashboard-task-list');
    const shared = await signIn(DASH, '#tasks?state=error&namespace=billing');
    await shared.locator(`[data-testid="task-row"][data-task-id="${id}"]`).waitFor();
    expect(await shared.inputValue('#filter-state')).toBe('error');
    expect(await shared.inputValue('#filter-namespace')).toBe('billing');
    expect(await shared.locator('[data-testid="task-row"]').count()).toBe(counts.error);
    // Back returns to the list before the filter.
    await page.goBack();
    await page.waitForFunction(() => (globalThis as any).location.hash === '#tasks?state=error');
    expect(await page.inputValue('#filter-namespace')).toBe('');

    // A viewer sees the inbox but cannot act on a group.
    await page.click('[data-testid="nav-failures"]');
    await group(page).waitFor();
    expect(await group(page).locator('[data-testid="failure-count"]').textContent()).toBe(String(counts.error));
    expect(await page.isDisabled('[data-testid="retry-all"]')).toBe(true);
    expect(await page.getAttribute('[data-testid="cancel-all"]', 'title')).toMatch(/viewer role/);
    expect(await page.locator('#failures-readonly').isVisible()).toBe(true);
    // Said in words next to the actions, not only in a tooltip a phone never shows.
    expect(await page.textContent('#failures-readonly')).toBe('Read-only: viewer key; actions need an operator key');
    await page.click('[data-testid="retry-all"]', { force: true });
    expect(await page.locator('#bulk-dialog').isVisible()).toBe(false);
    expect(posts).toEqual([]);
    await tasker.cancelTask(id, { actor: 'tests' });
  });

  it('Retry and Cancel are offered only when the state allows them; a dialog closes when the page navigates (Back)', async () => {
    const id = (await tasker.createTask({ name: 'invoice', namespace: 'billing', context: { orderId: 'X-2' } })).id;
    expect((await tasker.waitForTask(id, { timeoutMs: 30_000 })).state).toBe('error');
    const page = await signIn(ALICE, '#tasks');
    await page.locator(`[data-testid="task-row"][data-task-id="${id}"] a`).click();
    await page.locator('#task-state[data-state="error"]').waitFor();
    expect(await page.locator('#retry-task').isVisible()).toBe(true);
    expect(await page.locator('#cancel-task').isVisible()).toBe(true);
    await page.click('#retry-task');
    await page.locator('#action-dialog').waitFor({ state: 'visible' });
    await page.goBack();
    await page.locator('#list-view').waitFor({ state: 'visible' });
    expect(await page.locator('#action-dialog').isVisible()).toBe(false);
    expect(posts).toEqual([]);

    await tasker.cancelTask(id, { actor: 'tests', reason: 'not wanted' });
    await page.goForward();
    await page.locator('#task-state[data-state="cancelled"]').waitFor();
    expect(await page.locator('#retry-task').isVisible()).toBe(false);
    expect(await page.locator('#cancel-task').isVisible()).toBe(false);
  });

  it('the workers page shows who is alive and what each runs; the task types page, which types a live worker serves', async () => {
    const page = await signIn(DASH, '#workers');
    const worker = page.locator('[data-testid="worker-row"]');
    await worker.waitFor();
    expect(await worker.count()).toBe(1);
    expect(await worker.getAttribute('data-worker')).toMatch(/^worker:/);
    expect(await worker.locator('[data-testid="worker-types"]').textContent()).toBe('billing/invoice@1.0.0, mail/greeting@1.0.0');
    expect(await worker.locator('[data-testid="worker-running"]').textContent()).toMatch(/^\d+ of \d+ places$/);
    await shot(page, 'dashboard-workers');

    await page.click('[data-testid="nav-types"]');
    const invoice = page.locator('[data-testid="type-row"][data-type="billing/invoice@1.0.0"]');
    await invoice.waitFor();
    expect(await invoice.getAttribute('data-workers')).toBe('1');
    expect(await invoice.locator('.step-chip').allTextContents()).toEqual(['fetch_order', 'charge_card', 'reserve_stock', 'send_receipt']);
    expect(await invoice.locator('[data-testid="type-workers"]').textContent()).toBe('1 worker');
  });

  it('sign-in asks for the secret of a name:role:secret entry; the bare host redirects to the dashboard; the OpenAPI document does not call the keys JWTs', async () => {
    const page = await newPage();
    const res = await page.goto(`${base}/`);
    expect(new URL(res!.url()).pathname).toBe('/tasker/dashboard');
    await page.locator('#login-form').waitFor({ state: 'visible' });
    expect(await page.textContent('#key-hint')).toContain('name:role:secret');
    expect(await page.textContent('#key-hint')).toContain('enter only the secret');

    const doc = (await (await fetch(`${base}/tasker/docs-json`)).json()) as { components: { securitySchemes: Record<string, unknown> } };
    expect(JSON.stringify(doc).includes('JWT')).toBe(false);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'API key' });
  });

  /** Horizontal overflow of the page, and of each visible table beyond its box, in px (0: none). */
  const overflow = (page: Page) =>
    page.evaluate(() => {
      const d = (globalThis as any).document;
      const tables = Array.from(d.querySelectorAll('table.grid')).filter((t: any) => t.offsetParent !== null) as any[];
      return {
        page: d.documentElement.scrollWidth - d.documentElement.clientWidth,
        tables: Object.fromEntries(tables.map((t) => [t.id, Math.max(0, t.scrollWidth - t.parentElement.clientWidth)])),
      };
    });

  /** How far each graph node lies outside the graph panel's box, in px (0: inside). */
  const nodesOutside = (page: Page) =>
    page.evaluate(() => {
      const d = (globalThis as any).document;
      const panel = d.getElementById('task-graph').getBoundingClientRect();
      return Array.from(d.querySelectorAll('[data-testid="graph-node"]')).map((n: any) => {
        const b = n.getBoundingClientRect();
        return Math.max(0, panel.left - b.left, b.right - panel.right, panel.top - b.top, b.bottom - panel.bottom);
      });
    });

  /** Opens every collapsed block of the steps table (results, stack traces): the widest it gets. */
  const openAll = (page: Page) =>
    page.evaluate(() => (globalThis as any).document.querySelectorAll('#steps-table details').forEach((d: any) => (d.open = true)));

  /** Buttons of the steps table, and step names of its "Depends on" cells, whose text spans more than one line. */
  const brokenLabels = (page: Page) =>
    page.evaluate(() => {
      const d = (globalThis as any).document;
      const lines = (node: any, start: number, end: number) => {
        const r = d.createRange();
        r.setStart(node, start);
        r.setEnd(node, end);
        return new Set(Array.from(r.getClientRects()).filter((x: any) => x.width > 0).map((x: any) => Math.round(x.top))).size;
      };
      const broken: string[] = [];
      for (const b of Array.from(d.querySelectorAll('#steps-table button')) as any[]) {
        if (b.firstChild && lines(b.firstChild, 0, b.firstChild.length) > 1) broken.push(`button ${b.textContent}`);
      }
      for (const td of Array.from(d.querySelectorAll('[data-testid="step-depends-on"]')) as any[]) {
        const text = td.firstChild;
        let at = 0;
        for (const name of String(td.textContent).split(', ')) {
          if (lines(text, at, at + name.length) > 1) broken.push(`depends on ${name}`);
          at += name.length + 2;
        }
      }
      return broken;
    });

  it.each([1024, 1280, 1920])('at %i px the graph fits its panel and the steps table fits its card, its results and stack trace open', async (width) => {
    const id = (await tasker.createTask({ name: 'invoice', namespace: 'billing', context: { orderId: `L-${width}` } })).id;
    expect((await tasker.waitForTask(id, { timeoutMs: 30_000 })).state).toBe('error');
    const page = await signIn(DASH, `#task/${id}`, width);
    await page.locator('#task-state[data-state="error"]').waitFor();
    await page.locator('[data-testid="graph-node"]').first().waitFor();
    await page.locator('[data-testid="step-error"]').waitFor();
    await openAll(page);
    expect(await nodesOutside(page)).toEqual([0, 0, 0, 0]);
    expect(await overflow(page)).toEqual({ page: 0, tables: { 'steps-table': 0, 'audit-table': 0 } });
    // A button's label never wraps inside ("Res/olv/e"); a step name in "Depends on" stays on one line.
    expect(await page.locator('[data-testid="resolve-step"]').count()).toBeGreaterThan(0);
    expect(await brokenLabels(page)).toEqual([]);
    await tasker.cancelTask(id, { actor: 'tests' });
  });

  it('at 390 px (a phone) every view fits the screen: no horizontal overflow of the page or of a table', async () => {
    const page = await signIn(ALICE, '', 390);
    await page.locator('#failures-view').waitFor({ state: 'visible' });
    expect(await overflow(page)).toEqual({ page: 0, tables: { 'failures-table': 0 } });
    for (const [hash, table] of [['#tasks', 'tasks-table'], ['#workers', 'workers-table'], ['#types', 'types-table']]) {
      await page.evaluate(`location.hash = '${hash}'`);
      await page.locator(`#${table} tbody tr[data-testid]`).first().waitFor();
      expect(await overflow(page)).toEqual({ page: 0, tables: { [table]: 0 } });
    }
    await page.evaluate(`location.hash = '#task/${okIds[1]}'`);
    await page.locator('#task-state[data-state="complete"]').waitFor();
    await page.locator('[data-testid="audit-row"]').first().waitFor();
    await openAll(page);
    expect(await nodesOutside(page)).toEqual([0, 0, 0, 0]);
    expect(await overflow(page)).toEqual({ page: 0, tables: { 'steps-table': 0, 'audit-table': 0 } });
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await shot(page, 'dashboard-phone', false);
  });
  it('at 390 px: a retry whose tasks fail again says so in a warning; the next user on the tab does not see it; empty cells show no label; Retry all and Cancel all share a line', async () => {
    // Two orders the provider declines, the cause not fixed: the retry fails again.
    const ids = (await tasker.createTasks(['R-1', 'R-2'].map((orderId) => ({ name: 'invoice', namespace: 'billing', context: { orderId } })))).map((t) => t.id);
    for (const id of ids) expect((await tasker.waitForTask(id, { timeoutMs: 30_000 })).state).toBe('error');
    const page = await signIn(ALICE, '', 390);
    await group(page).waitFor();
    // The group holds these two (and, run alone, the failed tasks of the layout tests above).
    const n = Number(await group(page).getAttribute('data-count'));
    const [retryAll, cancelAll] = [group(page).locator('[data-testid="retry-all"]'), group(page).locator('[data-testid="cancel-all"]')];
    expect((await retryAll.boundingBox())!.y).toBe((await cancelAll.boundingBox())!.y);
    await retryAll.click();
    await page.fill('#bulk-reason', 'try once more');
    await page.click('#bulk-confirm');
    await page.locator('[data-testid="bulk-progress"]', { hasText: `Now: ${n} error` }).waitFor();
    expect(await page.textContent('[data-testid="bulk-failed-again"]')).toBe(`${n} failed again: fix the cause, then retry them (see the group below).`);
    expect(await page.getAttribute('#bulk-result', 'class')).toBe('message error');

    // Signing out and in with another key: nothing of alice's action is left on the page.
    await page.click('#signout');
    await page.fill('#api-key', DASH);
    await page.click('#login-submit');
    await group(page).waitFor();
    expect(await page.locator('#bulk-result').isVisible()).toBe(false);
    expect(await page.textContent('main')).not.toContain('Retried');

    // Stacked rows: a label without a value is left out (the failing step of a complete task, an empty reason).
    const emptyLabels = () => page.evaluate(() => Array.from((globalThis as any).document.querySelectorAll('.grid td[data-label]'))
      .filter((td: any) => td.offsetParent !== null && td.textContent.trim() === '').map((td: any) => td.getAttribute('data-label')));
    await page.evaluate('location.hash = "#tasks"');
    await page.locator('[data-testid="task-row"][data-state="complete"]').first().waitFor();
    expect(await emptyLabels()).toEqual([]);
    await page.evaluate(`location.hash = '#task/${okIds[2]}'`);
    await page.locator('[data-testid="audit-row"]').first().waitFor();
    expect(await emptyLabels()).toEqual([]);
    for (const id of ids) await tasker.cancelTask(id, { actor: 'tests' });
  });
});
