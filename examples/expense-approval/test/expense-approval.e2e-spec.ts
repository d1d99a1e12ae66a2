import { TaskerEvents } from 'nestjs-tasker';
import { createTaskerTestingApp, TaskerTestingApp } from 'nestjs-tasker/testing';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ExpenseReport } from '../src/expenses/expense.types';
import { ExpensePolicy } from '../src/expenses/expense-policy';
import { ExpenseReports } from '../src/expenses/expense-reports.service';
import { ExpensesModule } from '../src/expenses/expenses.module';
import { Notifier } from '../src/expenses/notifier.service';
import { ReceiptChecker } from '../src/expenses/receipt-checker.service';
import { Bank } from '../src/payments/bank.service';
import { PaymentsModule } from '../src/payments/payments.module';

/** A report of small receipts (€35.50 in all: approved by the policy). */
const small = (reportId: string): ExpenseReport => ({
  reportId,
  employeeId: `emp-${reportId}`,
  managerId: 'mgr-mia',
  receipts: [
    { id: `${reportId}-a`, vendor: 'Café Central', amountCents: 1_850 },
    { id: `${reportId}-b`, vendor: 'Café Central', amountCents: 1_700 },
  ],
});

/** A report over the €500 threshold (€910 in all: a manager must approve it). */
const large = (reportId: string): ExpenseReport => ({
  reportId,
  employeeId: `emp-${reportId}`,
  managerId: 'mgr-mia',
  receipts: [
    { id: `${reportId}-a`, vendor: 'Rail Europe', amountCents: 32_000 },
    { id: `${reportId}-b`, vendor: 'Hotel Lumière', amountCents: 41_000 },
    { id: `${reportId}-c`, vendor: 'Café Central', amountCents: 3_000 },
    { id: `${reportId}-d`, vendor: 'Kiosk', amountCents: 15_000 },
  ],
});

/** A promise the test resolves when it wants. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const states = (steps: { name: string; state: string }[]) => Object.fromEntries(steps.map((s) => [s.name, s.state]));

describe('expense approval: a map, a condition, a signal, a child task', () => {
  let kit: TaskerTestingApp;
  let reports: ExpenseReports;

  beforeAll(async () => {
    // Both features: the payout child task needs its handler (PaymentsModule) on a worker too.
    kit = await createTaskerTestingApp({ imports: [ExpensesModule, PaymentsModule] });
    reports = kit.get(ExpenseReports);
  });
  afterAll(() => kit?.close());

  it('a small report: receipts checked, approved by the policy, paid through a payout child task, employee notified', async () => {
    const task = await reports.submit(small('R-1'));
    const done = await kit.tasker.waitForTask(task.id);

    expect(done.state).toBe('complete');
    expect(states(done.steps)).toEqual({
      receipts: 'complete',
      'receipts[0]': 'complete',
      'receipts[1]': 'complete',
      total: 'complete',
      manager_approval: 'skipped',
      auto_approve: 'complete',
      payout: 'complete',
      notify: 'complete',
    });
    const results = TaskerTestingApp.results(done);
    expect(results.receipts).toEqual([
      { receiptId: 'R-1-a', amountCents: 1_850, category: 'meals' },
      { receiptId: 'R-1-b', amountCents: 1_700, category: 'meals' },
    ]);
    expect(results.total).toEqual({ totalCents: 3_550, needsApproval: false });
    expect(done.steps.find((s) => s.name === 'manager_approval')).toMatchObject({ attempts: 0, readiness: { reason: 'condition false' } });

    const [payout] = await kit.childTasks(done.id);
    expect(payout).toMatchObject({ namespace: 'payments', name: 'payout', state: 'complete', parentTaskId: done.id, parentStepName: 'payout' });
    expect(payout.context).toEqual({ reportId: 'R-1', employeeId: 'emp-R-1', amountCents: 3_550 });
    expect(results.payout).toEqual({ taskId: payout.id, results: { transfer: { transferId: 'tr-expense-R-1', amountCents: 3_550 } } });
    expect(results.notify).toEqual({ to: 'emp-R-1', text: 'Expense report R-1: €35.50 approved by policy, paid (tr-expense-R-1)' });
    expect(kit.get(Notifier).sent.filter((m) => m.to === 'mgr-mia' && m.text.includes('R-1 '))).toEqual([]); // no manager asked
  });

  it('a large report waits for the manager; the approval signal completes the step and the report is paid', async () => {
    // #region test-approval
    const task = await reports.submit(large('R-2'));

    // The step asked the manager and now waits for the "approved" signal, holding no worker.
    const step = await kit.waitForStep(task.id, 'manager_approval', 'waiting');
    expect(step.readiness.reason).toMatch(/^waiting for signal "approved" until /);
    expect(kit.get(Notifier).sent).toContainEqual({ to: 'mgr-mia', text: 'Please approve expense report R-2 (€910.00)' });

    await kit.signal(task.id, 'approved', { approvedBy: 'mgr-mia' }, { actor: 'manager:mgr-mia' });
    const done = await kit.tasker.waitForTask(task.id);
    expect(done.state).toBe('complete');
    expect(TaskerTestingApp.results(done).notify).toEqual({ to: 'emp-R-2', text: 'Expense report R-2: €910.00 approved by mgr-mia, paid (tr-expense-R-2)' });
    // #endregion

    expect(states(done.steps)).toMatchObject({ manager_approval: 'complete', auto_approve: 'skipped', payout: 'complete' });
    const trail = await kit.tasker.getAuditTrail(done.id);
    expect(trail.find((e) => e.stepName === 'manager_approval' && e.to === 'complete')).toMatchObject({
      from: 'waiting',
      actor: 'manager:mgr-mia',
      reason: 'signal "approved"',
    });
    expect(kit.eventsFor(done.id, TaskerEvents.SIGNAL_RECEIVED)).toEqual([expect.objectContaining({ signalName: 'approved', actor: 'manager:mgr-mia' })]);
    // maxParallel 3 over 4 receipts: never more than 3 in progress at once (from the trail, in commit order).
    let running = 0;
    let most = 0;
    for (const e of trail.filter((x) => x.stepName?.startsWith('receipts['))) {
      if (e.to === 'in_progress') most = Math.max(most, ++running);
      if (e.from === 'in_progress') running--;
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(3);
  });

  it('an approval sent before the step waits is kept and delivered when it does', async () => {
    // Hold the receipt checks, so that the manager's approval surely comes first.
    const checker = kit.get(ReceiptChecker);
    const check = checker.check.bind(checker);
    const held = gate();
    const spy = jest.spyOn(checker, 'check').mockImplementation(async (r) => {
      await held.promise;
      return check(r);
    });
    try {
      const task = await reports.submit(large('R-3'));
      await kit.waitForStep(task.id, 'receipts[0]', 'in_progress');
      await reports.approve(task.id, 'mgr-mia', 'approved from my phone');
      expect((await kit.tasker.getTask(task.id)).steps.find((s) => s.name === 'manager_approval')?.state).toBe('pending');

      held.open();
      const done = await kit.tasker.waitForTask(task.id);
      expect(done.state).toBe('complete');
      expect(TaskerTestingApp.results(done).manager_approval).toEqual({ approvedBy: 'mgr-mia', comment: 'approved from my phone' });
      const trail = await kit.tasker.getAuditTrail(done.id);
      expect(trail.filter((e) => e.stepName === 'manager_approval').map((e) => [e.from, e.to, e.reason])).toEqual([
        ['pending', 'in_progress', undefined],
        ['in_progress', 'waiting', 'waiting for signal "approved"'],
        ['waiting', 'complete', 'signal "approved": approved from my phone'],
      ]);
      // A second approval is refused: a task takes each signal name once.
      await expect(reports.approve(task.id, 'mgr-mia')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    } finally {
      held.open();
      spy.mockRestore();
    }
  });

  it('no approval in time: manager_approval fails with WAIT_TIMEOUT and the task ends in error; nothing is paid', async () => {
    const policy = kit.get(ExpensePolicy);
    const saved = policy.approvalTimeoutMs;
    policy.approvalTimeoutMs = 300; // three days in production
    try {
      const task = await reports.submit(large('R-4'));
      const failed = await kit.tasker.waitForTask(task.id);

      expect(failed.state).toBe('error');
      expect(states(failed.steps)).toMatchObject({ total: 'complete', manager_approval: 'error', auto_approve: 'skipped', payout: 'pending', notify: 'pending' });
      const step = failed.steps.find((s) => s.name === 'manager_approval')!;
      expect(step).toMatchObject({ attempts: 1, lastError: { code: 'WAIT_TIMEOUT', message: 'No signal "approved" arrived within 300 ms.' } });
      expect(kit.eventsFor(task.id, TaskerEvents.STEP_FAILED)).toEqual([expect.objectContaining({ stepName: 'manager_approval', willRetry: false })]);
      expect(await kit.childTasks(task.id)).toEqual([]);
      expect(kit.get(Bank).transfers.has('expense-R-4')).toBe(false);
    } finally {
      policy.approvalTimeoutMs = saved;
    }
  });

  it('an unreadable receipt fails its instance; after a new scan, retryTask checks only that receipt again', async () => {
    const checker = kit.get(ReceiptChecker);
    checker.unreadable.add('R-5-c');
    const failed = await kit.tasker.waitForTask((await reports.submit(large('R-5'))).id);

    expect(failed.state).toBe('error');
    const receipts = failed.steps.find((s) => s.name === 'receipts')!;
    expect(receipts).toMatchObject({ state: 'error', instances: { total: 4, done: 3, failed: 1, running: 0 }, readiness: { reason: 'waiting for 1 of 4 instances (1 failed)' } });
    expect(failed.steps.find((s) => s.name === 'receipts[2]')).toMatchObject({ state: 'error', attempts: 1, lastError: { code: 'RECEIPT_UNREADABLE' } });
    expect(states(failed.steps)).toMatchObject({ 'receipts[0]': 'complete', 'receipts[1]': 'complete', 'receipts[3]': 'complete', total: 'pending' });

    checker.unreadable.delete('R-5-c'); // the employee uploaded a new scan
    await kit.tasker.retryTask(failed.id, { actor: 'ops:sam', reason: 'new scan uploaded' });
    await kit.waitForStep(failed.id, 'manager_approval', 'waiting');
    await reports.approve(failed.id, 'mgr-mia');
    const done = await kit.tasker.waitForTask(failed.id);

    expect(done.state).toBe('complete');
    expect(checker.checked.filter((id) => id.startsWith('R-5-')).sort()).toEqual(['R-5-a', 'R-5-b', 'R-5-c', 'R-5-c', 'R-5-d']); // only c twice
    expect(TaskerTestingApp.results(done).total).toEqual({ totalCents: 91_000, needsApproval: true });
    const trail = await kit.tasker.getAuditTrail(done.id);
    expect(trail.filter((e) => e.actor === 'ops:sam').map((e) => [e.stepName ?? null, e.from, e.to])).toEqual([
      [null, 'error', 'pending'],
      ['receipts[2]', 'error', 'pending'],
    ]);
  });

  it('a payout that fails fails the report with CHILD_TASK_FAILED; once the account is fixed, retrying the report retries the same payout', async () => {
    const bank = kit.get(Bank);
    bank.blocked.add('emp-R-6');
    const failed = await kit.tasker.waitForTask((await reports.submit(small('R-6'))).id);

    expect(failed.state).toBe('error');
    const [child] = await kit.childTasks(failed.id);
    expect(child).toMatchObject({ namespace: 'payments', name: 'payout', state: 'error' });
    const childDetail = await kit.tasker.getTask(child.id);
    expect(childDetail.steps[0]).toMatchObject({ name: 'transfer', state: 'error', lastError: { code: 'ACCOUNT_BLOCKED' } });
    const payout = failed.steps.find((s) => s.name === 'payout')!;
    expect(payout).toMatchObject({ state: 'error', attempts: 1, childTaskId: child.id, lastError: { code: 'CHILD_TASK_FAILED', message: `Child task ${child.id} ended in error.` } });
    expect(states(failed.steps)).toMatchObject({ auto_approve: 'complete', payout: 'error', notify: 'pending' });

    bank.blocked.delete('emp-R-6'); // the employee's bank details were corrected
    await kit.tasker.retryTask(failed.id, { actor: 'ops:sam', reason: 'bank details fixed' });
    const done = await kit.tasker.waitForTask(failed.id);

    expect(done.state).toBe('complete');
    expect((await kit.childTasks(done.id)).map((c) => [c.id, c.state])).toEqual([[child.id, 'complete']]); // the same child, retried
    expect(TaskerTestingApp.results(done).payout).toEqual({ taskId: child.id, results: { transfer: { transferId: 'tr-expense-R-6', amountCents: 3_550 } } });
    expect(TaskerTestingApp.results(done).notify).toEqual({ to: 'emp-R-6', text: 'Expense report R-6: €35.50 approved by policy, paid (tr-expense-R-6)' });
    // The child's own trail says who retried it and why.
    const childTrail = await kit.tasker.getAuditTrail(child.id);
    expect(childTrail.find((e) => e.stepName === 'transfer' && e.from === 'error' && e.to === 'pending')).toMatchObject({ actor: 'ops:sam', reason: 'bank details fixed' });
  });
});

describe('examples/expense-approval/src/main.ts', () => {
  it('runs against DATABASE_URL: a small report auto-approved, a large one approved by its manager', async () => {
    // An API-only app owns a throwaway schema for main.ts to use, and drops it at close.
    const owner = await createTaskerTestingApp({ tasker: { worker: { enabled: false } } });
    try {
      const root = join(__dirname, '..', '..', '..');
      const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', 'examples/expense-approval/src/main.ts'], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: owner.databaseUrl, TASKER_SCHEMA: owner.schema },
        timeout: 60_000,
      });
      const [smallRun, largeRun] = stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      expect(smallRun).toMatchObject({ state: 'complete', notify: { to: 'emp-ada', text: expect.stringContaining('€18.50 approved by policy') } });
      expect(largeRun).toMatchObject({ state: 'complete', notify: { to: 'emp-bob', text: expect.stringContaining('€730.00 approved by mgr-mia') } });
      expect(Object.fromEntries(largeRun.steps)).toMatchObject({ manager_approval: 'complete', auto_approve: 'skipped' });
    } finally {
      await owner.close();
    }
  }, 90_000);
});
