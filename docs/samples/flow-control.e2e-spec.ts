import { StepView, TaskDetail, TaskerService } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { AccountSyncs, CrmApi, FlowControlModule, PaymentsApi, ReportLog, ReportRequests } from './flow-control';

const SYNC = { name: 'sync_account', namespace: 'crm' };
const ENRICH = { name: 'enrich_lead', namespace: 'crm' };
const CHARGE = { name: 'charge', namespace: 'billing' };
const REFUND = { name: 'refund', namespace: 'billing' };
const PAYOUT = { name: 'payout', namespace: 'billing' };

/** A promise the test opens when it wants. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Polls `probe` until it returns something other than undefined/false. */
async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const stepOf = async (tasker: TaskerService, taskId: string, name: string): Promise<StepView> =>
  (await tasker.getTask(taskId)).steps.find((s) => s.name === name)!;

/** Waits until the step's readiness reason is `reason`, and returns the step. */
const heldWith = (tasker: TaskerService, taskId: string, name: string, reason: string) =>
  until(`${name} of task ${taskId} to be held with "${reason}"`, async () => {
    const s = await stepOf(tasker, taskId, name);
    return s.readiness.reason === reason && s;
  });

/** Sliding window: no `limit` + 1 recorded starts within `periodMs` of each other. */
function windowProblems(starts: Date[], limit: number, periodMs: number): string[] {
  const t = starts.map((d) => d.getTime()).sort((a, b) => a - b);
  const problems: string[] = [];
  for (let i = limit; i < t.length; i++) if (t[i] - t[i - limit] < periodMs) problems.push(`starts ${i - limit} and ${i} are ${t[i] - t[i - limit]} ms apart`);
  return problems;
}

const startOf = (d: TaskDetail, step: string) => d.steps.find((s) => s.name === step)!.startedAt!;

/** Runs the samples of docs/flow-control.md. */
describe('docs/flow-control.md samples', () => {
  describe('priority', () => {
    // Tasks are created by a process without a worker; a worker with one place then starts, so that
    // every claim chooses among all of them.
    let api: TaskerTestingApp;
    let worker: TaskerTestingApp | undefined;
    beforeAll(async () => {
      api = await createTaskerTestingApp({ imports: [FlowControlModule], tasker: { worker: { enabled: false } } });
    });
    afterEach(async () => {
      await worker?.close();
      worker = undefined;
    });
    afterAll(() => api?.close());

    const startWorker = async (options: { concurrency: number; priorityAgingMs?: number }) => {
      worker = await createTaskerTestingApp({ imports: [FlowControlModule], tasker: { schema: api.schema, worker: options } });
      return worker;
    };
    const allDone = (ids: string[]) => Promise.all(ids.map((id) => api.tasker.waitForTask(id, { timeoutMs: 30_000 })));

    it('higher priority is claimed first, equal priority in the order the steps became ready', async () => {
      const requests = api.get(ReportRequests);
      const batch1 = await requests.nightly(['n-1', 'n-2', 'n-3']);
      const user1 = await requests.forUser('u-1');
      const batch2 = await requests.nightly(['n-4']);
      const user2 = await requests.forUser('u-2');
      expect([user1.priority, batch1[0].priority]).toEqual([50, -10]);
      expect((await api.tasker.getTask(user2.id)).priority).toBe(50);

      const w = await startWorker({ concurrency: 1 });
      const done = await allDone([...batch1, user1, ...batch2, user2].map((t) => t.id));
      expect(done.every((d) => d.state === 'complete')).toBe(true);
      expect(w.get(ReportLog).started).toEqual(['u-1', 'u-2', 'n-1', 'n-2', 'n-3', 'n-4']);
    });

    it('work ready for priorityAgingMs has its share: a claim of ten places gives one to the oldest aged step', async () => {
      const requests = api.get(ReportRequests);
      const old = await requests.nightly(['old-1', 'old-2', 'old-3']);
      const createdAt = Date.now();
      await until('the batch to have waited 500 ms', () => Date.now() - createdAt > 500);
      const urgent = [await requests.forUser('urgent-1'), await requests.forUser('urgent-2')];

      // Ten free places: one for the oldest aged step, the other nine by priority.
      const w = await startWorker({ concurrency: 10, priorityAgingMs: 300 });
      await allDone([...old, ...urgent].map((t) => t.id));
      expect(w.get(ReportLog).started).toEqual(['old-1', 'urgent-1', 'urgent-2', 'old-2', 'old-3']);
    });

    it('a worker that fills one place at a time gives every tenth claim to aged work', async () => {
      const requests = api.get(ReportRequests);
      const old = await requests.nightly(['old-4']);
      const createdAt = Date.now();
      await until('the batch to have waited 500 ms', () => Date.now() - createdAt > 500);
      const urgent = [];
      for (let i = 1; i <= 12; i++) urgent.push(await requests.forUser(`urgent-${i}`));

      const w = await startWorker({ concurrency: 1, priorityAgingMs: 300 });
      await allDone([...old, ...urgent].map((t) => t.id));
      const started = w.get(ReportLog).started;
      // Claims 1 to 9 by priority; the tenth takes the aged step, although urgent work is still waiting.
      expect(started.slice(0, 9)).toEqual(['urgent-1', 'urgent-2', 'urgent-3', 'urgent-4', 'urgent-5', 'urgent-6', 'urgent-7', 'urgent-8', 'urgent-9']);
      expect(started[9]).toBe('old-4');
    });
  });

  describe('concurrency limits', () => {
    let kit: TaskerTestingApp;
    let crm: CrmApi;
    beforeAll(async () => {
      kit = await createTaskerTestingApp({ imports: [FlowControlModule] });
      crm = kit.get(CrmApi);
    });
    afterEach(() => {
      crm.hold = undefined;
    });
    afterAll(() => kit?.close());

    it('task level: one sync per account; the others stay pending, held with the reason, and start as the slot frees', async () => {
      const g = gate();
      crm.hold = g.promise;
      const syncs = kit.get(AccountSyncs);
      const first = await syncs.start('acc-1');
      const second = await syncs.start('acc-1');
      const other = await syncs.start('acc-2');
      const merged = await syncs.start('acc-7', 'acc-1'); // merged into acc-1: its key
      // No account id in the context: the key "" (one group for all of them).
      const noId1 = await kit.tasker.createTask({ ...SYNC, context: { account: { name: 'no id' } } });
      const noId2 = await kit.tasker.createTask({ ...SYNC, context: { account: { name: 'no id either' } } });

      await until('acc-1, acc-2 and one without id pulling', () => ['pull acc-1', 'pull acc-2', 'pull undefined'].every((c) => crm.calls.includes(c)));
      expect((await kit.tasker.getTask(first.id)).state).toBe('in_progress');
      expect((await kit.tasker.getTask(other.id)).state).toBe('in_progress');
      for (const held of [second, merged]) {
        await heldWith(kit.tasker, held.id, 'pull', 'concurrency limit (crm/sync_account:acc-1: 1/1 running)');
        expect((await kit.tasker.getTask(held.id)).state).toBe('pending');
      }
      await heldWith(kit.tasker, noId2.id, 'pull', 'concurrency limit (crm/sync_account: 1/1 running)');
      expect(crm.calls.filter((c) => c === 'pull acc-1')).toHaveLength(1);
      expect(crm.calls).not.toContain('pull acc-7');

      // Cancelling the running task frees its slot: the next held task of the key starts.
      await kit.tasker.cancelTask(first.id, { actor: 'docs', reason: 'frees the slot' });
      await until('the second acc-1 sync to start', async () => (await kit.tasker.getTask(second.id)).state === 'in_progress');
      expect(await stepOf(kit.tasker, merged.id, 'pull')).toMatchObject({ state: 'pending', readiness: { reason: 'concurrency limit (crm/sync_account:acc-1: 1/1 running)' } });

      g.open();
      const done = await Promise.all([second, other, merged, noId1, noId2].map((t) => kit.tasker.waitForTask(t.id)));
      expect(done.map((d) => d.state)).toEqual(['complete', 'complete', 'complete', 'complete', 'complete']);
      // The merged account's task ran only once the second acc-1 task had finished (the whole task holds the key).
      const trail = await kit.tasker.getAuditTrail(second.id);
      const secondDone = trail.find((e) => !e.stepName && e.to === 'complete')!.at.getTime();
      const mergedStart = (await kit.tasker.getAuditTrail(merged.id)).find((e) => !e.stepName && e.to === 'in_progress')!.at.getTime();
      expect(mergedStart).toBeGreaterThanOrEqual(secondDone);
      // Held is not a state change: the audit trail of a held task has no entry for it.
      expect((await kit.tasker.getAuditTrail(merged.id)).map((e) => [e.stepName ?? 'task', e.to])).toEqual([
        ['task', 'pending'],
        ['task', 'in_progress'],
        ['pull', 'in_progress'],
        ['pull', 'complete'],
        ['push', 'in_progress'],
        ['push', 'complete'],
        ['task', 'complete'],
      ]);
    });

    it('step level: at most 2 lookups per region run at once; the held one says why; other regions go on', async () => {
      const g = gate();
      crm.hold = g.promise;
      const eu = await kit.tasker.createTasks([1, 2, 3, 4].map((i) => ({ ...ENRICH, context: { email: `lead${i}@eu.example`, region: 'eu' } })));
      const us = await kit.tasker.createTask({ ...ENRICH, context: { email: 'lead@us.example', region: 'us' } });

      await until('two eu and one us lookups running', () => crm.running.get('region:eu') === 2 && crm.running.get('region:us') === 1);
      const held = await until('a held eu lookup', async () => {
        for (const t of eu) {
          const s = await stepOf(kit.tasker, t.id, 'lookup');
          if (s.readiness.reason.startsWith('concurrency limit')) return s;
        }
        return undefined;
      });
      expect(held).toMatchObject({ state: 'pending', attempts: 0, readiness: { ready: false, reason: 'concurrency limit (crm/enrich_lead/lookup:eu: 2/2 running)', availableAt: null } });

      g.open();
      const done = await Promise.all([...eu, us].map((t) => kit.tasker.waitForTask(t.id)));
      expect(done.every((d) => d.state === 'complete')).toBe(true);
      expect(crm.most.get('region:eu')).toBe(2);
    });
  });

  describe('rate limits', () => {
    let kit: TaskerTestingApp;
    let payments: PaymentsApi;
    beforeAll(async () => {
      kit = await createTaskerTestingApp({ imports: [FlowControlModule] });
      payments = kit.get(PaymentsApi);
    });
    afterEach(() => {
      payments.hold = undefined;
    });
    afterAll(() => kit?.close());

    it('at most 3 starts per merchant in any second, charges and refunds together; held steps start when the window allows', async () => {
      const charges = await kit.tasker.createTasks(Array.from({ length: 6 }, (_, i) => ({ ...CHARGE, context: { merchantId: 'm-1', amount: 10 + i } })));
      const refunds = await kit.tasker.createTasks([1, 2].map((i) => ({ ...REFUND, context: { merchantId: 'm-1', amount: i } })));
      const otherMerchant = await kit.tasker.createTasks([1, 2].map((i) => ({ ...CHARGE, context: { merchantId: 'm-2', amount: i } })));

      const held = await until('a held payments call of m-1', async () => {
        for (const [t, step] of [...charges.map((c) => [c, 'charge'] as const), ...refunds.map((r) => [r, 'refund'] as const)]) {
          const s = await stepOf(kit.tasker, t.id, step);
          if (s.readiness.reason.startsWith('rate limited')) return s;
        }
        return undefined;
      });
      expect(held).toMatchObject({ state: 'pending', readiness: { ready: false, reason: 'rate limited (payments_api:m-1: 3/3 per 1 s)' } });
      expect(held.readiness.availableAt).toBeInstanceOf(Date); // when the window lets it start

      const done = await Promise.all([...charges, ...refunds, ...otherMerchant].map((t) => kit.tasker.waitForTask(t.id)));
      expect(done.every((d) => d.state === 'complete')).toBe(true);
      const m1 = [...done.slice(0, 6).map((d) => startOf(d, 'charge')), ...done.slice(6, 8).map((d) => startOf(d, 'refund'))];
      expect(windowProblems(m1, 3, 1_000)).toEqual([]);
      // m-2 has a window of its own: its charges did not wait behind m-1's.
      const fourthOfM1 = m1.map((d) => d.getTime()).sort((a, b) => a - b)[3];
      for (const d of done.slice(8)) expect(startOf(d, 'charge').getTime()).toBeLessThan(fourthOfM1);
    });

    it('combined: a payout holds its merchant key, its transfer needs a free place of 4 and room in the merchant window', async () => {
      const g = gate();
      payments.hold = g.promise;
      // Six merchants' payouts: six task keys, but the transfer step is limited to 4 at once in all (the key "").
      const payouts = await kit.tasker.createTasks([1, 2, 3, 4, 5, 6].map((i) => ({ ...PAYOUT, context: { merchantId: `q-${i}`, amount: 100 * i } })));
      const again = await kit.tasker.createTask({ ...PAYOUT, context: { merchantId: 'q-1', amount: 5 } }); // q-1 is already paying out

      await until('four transfers running', () => payments.calls.filter((c) => c.kind === 'transfer').length === 4);
      const held = await until('a held transfer', async () => {
        for (const t of payouts) {
          const s = await stepOf(kit.tasker, t.id, 'transfer');
          if (s.state === 'pending' && s.readiness.reason.startsWith('concurrency limit')) return s;
        }
        return undefined;
      });
      expect(held.readiness.reason).toBe('concurrency limit (billing/payout/transfer: 4/4 running)');
      await heldWith(kit.tasker, again.id, 'compute', 'concurrency limit (billing/payout:q-1: 1/1 running)');

      // The transfers share each merchant's payments_api window with charges.
      const charges = await kit.tasker.createTasks([1, 2, 3].map((i) => ({ ...CHARGE, context: { merchantId: 'q-1', amount: i } })));
      g.open();
      const done = await Promise.all([...payouts, again, ...charges].map((t) => kit.tasker.waitForTask(t.id)));
      expect(done.every((d) => d.state === 'complete')).toBe(true);
      const q1 = [startOf(done[0], 'transfer'), startOf(done[6], 'transfer'), ...done.slice(7).map((d) => startOf(d, 'charge'))];
      expect(windowProblems(q1, 3, 1_000)).toEqual([]);
    });
  });
});
