import type { StepContext, TaskRequest, TaskView } from 'nestjs-tasker';
import { dropSchema, uniqueSchema } from '../support/database';
import { checkFlowLimits, FlowLimitsReport, FlowTask } from '../support/flow-limits';
import { describeViolations, transitionsFromAuditTrail } from '../support/limits-checker';
import { startApp, TestApp } from '../support/tasker-app';
import { waitFor } from '../support/wait';
import { expectConsistentAuditTrail } from '../support/audit-check';
import { FLOW_LIMITS, flowProviders, flowTask } from '../fixtures/flow-control.workflows';

const WORKERS = 3;
const CONCURRENCY = 6;

/**
 * SPEC §9.2 and §9.3 under races: three workers (three apps, each with its own pool, LISTEN
 * connection and worker of 6 slots) share one schema and many tasks over few keys. From the audit
 * trails, the limits checker proves that no step concurrency group, no task concurrency group and
 * no rate window ever held more than its limit, and every task completed (held steps started once
 * a place or the window allowed). In-process, the step bodies count themselves too: a second,
 * independent view of how many attempts of one key ran at once.
 */
describe('flow control: many workers racing over few keys', () => {
  const schema = uniqueSchema('flowrace');
  const apps: TestApp[] = [];
  const tasks: FlowTask[] = [];
  let report: FlowLimitsReport;
  /** Bodies running right now, and the most at once, per concurrency group (as the bodies saw it). */
  const bodiesRunning = new Map<string, number>();
  const bodiesMax = new Map<string, number>();

  const bodyGroup = (ctx: StepContext<any>): string | undefined => {
    if (ctx.task.name === 'crm_sync' && ctx.step.name === 'call_crm') return `crm_sync.call_crm:${ctx.task.context.region ?? ''}`;
    if (ctx.task.name === 'crm_sync' && ctx.step.name === 'export') return 'crm_sync.export:';
    return undefined;
  };
  const body = async (ctx: StepContext<any>) => {
    const g = bodyGroup(ctx);
    if (g) {
      const n = (bodiesRunning.get(g) ?? 0) + 1;
      bodiesRunning.set(g, n);
      bodiesMax.set(g, Math.max(n, bodiesMax.get(g) ?? 0));
    }
    try {
      // A little simulated work, so that attempts overlap.
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 20));
      return { by: ctx.step.name, attempt: ctx.step.attempt };
    } finally {
      if (g) bodiesRunning.set(g, bodiesRunning.get(g)! - 1);
    }
  };

  beforeAll(async () => {
    for (let i = 0; i < WORKERS; i++) apps.push(await startApp(schema, flowProviders(body), { worker: { concurrency: CONCURRENCY } }));

    const requests: TaskRequest[] = [];
    const regions = ['eu', 'us', 'ap'];
    for (let i = 0; i < 60; i++) {
      // Every seventh has no region: its key is "".
      requests.push({ ...flowTask('crm_sync'), context: i % 7 === 6 ? { n: i } : { n: i, region: regions[i % 3] } });
    }
    for (let i = 0; i < 30; i++) requests.push({ ...flowTask('payments'), context: i % 10 === 9 ? { n: i } : { n: i, merchantId: `m${i % 2}` } });
    for (let i = 0; i < 20; i++) requests.push({ ...flowTask('refunds'), context: { n: i, merchantId: `m${i % 2}` } });
    for (let i = 0; i < 24; i++) {
      if (i % 8 === 3) requests.push({ ...flowTask('account_sync'), context: { n: i, accountId: 'elsewhere' }, concurrencyKey: 'a1' }); // counts as a1
      else if (i % 8 === 7) requests.push({ ...flowTask('account_sync'), context: { n: i } }); // key ""
      else requests.push({ ...flowTask('account_sync'), context: { n: i, accountId: `a${i % 3}` } });
    }
    for (let i = 0; i < 8; i++) requests.push({ ...flowTask('nightly_batch'), context: { n: i, accountId: `a${i}` } });
    // Shuffled (deterministically), so the types and keys interleave in the ready order.
    const order = requests.map((r, i) => ({ r, k: (i * 7919) % requests.length })).sort((a, b) => a.k - b.k);
    // Three batches, one through each app, one after the other (creating them at once is another
    // test's subject: flow-control.e2e-spec.ts), while the workers already run the first.
    const batches = [0, 1, 2].map((b) => order.filter((_, i) => i % 3 === b).map((x) => x.r));
    const created: TaskView[][] = [];
    for (const [b, reqs] of batches.entries()) created.push(await apps[b].tasker.createTasks(reqs));
    created.forEach((views, b) =>
      views.forEach((v, i) => tasks.push({ id: v.id, name: v.name, context: v.context, concurrencyKey: batches[b][i].concurrencyKey })),
    );

    await waitFor(
      `all ${tasks.length} tasks to settle`,
      async () => {
        for (const t of tasks) {
          const d = await apps[0].tasker.getTask(t.id);
          if (!['complete', 'error', 'cancelled'].includes(d.state)) return undefined;
        }
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
    const trails = await Promise.all(tasks.map((t) => apps[1].tasker.getAuditTrail(t.id)));
    report = checkFlowLimits(tasks, transitionsFromAuditTrail(trails));
  }, 150_000);

  afterAll(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    await dropSchema(schema);
  });

  it('completed every task, each step exactly once, with a consistent audit trail', async () => {
    expect(tasks).toHaveLength(142);
    for (const t of tasks) {
      const d = await apps[2].tasker.getTask(t.id);
      expect({ id: t.id, state: d.state }).toEqual({ id: t.id, state: 'complete' });
      expect(d.steps.filter((s) => s.attempts !== 1)).toEqual([]);
      await expectConsistentAuditTrail(apps[2].tasker, d);
    }
  });

  it('never ran more attempts of a step per key than its concurrency limit, by the audit trail and by the bodies themselves', () => {
    expect(describeViolations({ concurrency: report.concurrency.filter((o) => o.group.startsWith('crm_sync.')) })).toEqual([]);
    for (const [g, n] of bodiesMax) {
      const limit = g.startsWith('crm_sync.call_crm:') ? FLOW_LIMITS.crmCall.limit : FLOW_LIMITS.crmExport.limit;
      expect({ group: g, most: n, within: n <= limit }).toEqual({ group: g, most: n, within: true });
    }
    // The race reached the limits (otherwise this test proves nothing): 4 call_crm groups, one export group.
    const groups = [...report.maxRunning].filter(([g]) => g.startsWith('crm_sync.'));
    expect(groups.map(([g]) => g).sort()).toEqual(['crm_sync.call_crm:', 'crm_sync.call_crm:ap', 'crm_sync.call_crm:eu', 'crm_sync.call_crm:us', 'crm_sync.export:']);
    expect(report.maxRunning.get('crm_sync.export:')).toBe(FLOW_LIMITS.crmExport.limit);
    expect(Math.max(...groups.filter(([g]) => g.includes('call_crm')).map(([, n]) => n))).toBe(FLOW_LIMITS.crmCall.limit);
  });

  it('never had more tasks of a type in progress per key than its concurrency limit (a concurrencyKey counting as the key)', () => {
    expect(describeViolations({ concurrency: report.concurrency.filter((o) => !o.group.startsWith('crm_sync.')) })).toEqual([]);
    const groups = [...report.maxRunning].filter(([g]) => !g.startsWith('crm_sync.'));
    expect(groups.map(([g]) => g).sort()).toEqual([
      'account_sync:',
      'account_sync:a0',
      'account_sync:a1',
      'account_sync:a2',
      'nightly_batch:',
    ]);
    expect(report.maxRunning.get('nightly_batch:')).toBe(FLOW_LIMITS.nightlyBatch.limit);
    // No task of the type was ever grouped under the context value its concurrencyKey overrode.
    expect(report.taskHolds.some((h) => h.group === 'account_sync:elsewhere')).toBe(false);
  });

  it('never started more attempts per bucket and key in any window of the period than the rate limit, across the step types sharing the bucket', () => {
    expect(describeViolations({ rate: report.rate })).toEqual([]);
    // charge and refund both drew from the stripe windows of m0 and m1; the charges without a merchant from "".
    const starts = (g: string) => report.starts.filter((s) => s.group === g).length;
    expect({ m0: starts('stripe:m0'), m1: starts('stripe:m1'), none: starts('stripe:') }).toEqual({ m0: 25, m1: 22, none: 3 });
  });
});
