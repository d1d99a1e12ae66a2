import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';
import type { Approval, CheckedReceipt, ExpenseReport, Receipt, Total, Transfer } from './expense.types';
import { ExpensePolicy } from './expense-policy';
import { Notifier } from './notifier.service';
import { ReceiptChecker } from './receipt-checker.service';

const euros = (cents: number) => `€${(cents / 100).toFixed(2)}`;

// #region handler
@TaskHandler({ name: 'expense_approval', namespace: 'expenses', version: '1.0.0', description: 'Check, approve and pay an expense report' })
export class ExpenseApprovalWorkflow {
  constructor(
    private readonly checker: ReceiptChecker,
    private readonly policy: ExpensePolicy,
    private readonly notifier: Notifier,
  ) {}

  // A map step: one instance per receipt (receipts[0], receipts[1], ...), at most 3 checked at once.
  @Step({ name: 'receipts', map: (ctx) => (ctx.task.context as ExpenseReport).receipts, maxParallel: 3 })
  checkReceipt(ctx: StepContext<ExpenseReport, Receipt>): Promise<CheckedReceipt> {
    return this.checker.check(ctx.item!);
  }

  // The decision is made here, where the policy is injected; the conditions below only read it.
  @Step()
  @DependsOn('receipts')
  total(ctx: StepContext<ExpenseReport>): Total {
    const receipts = ctx.results['receipts'] as CheckedReceipt[]; // every instance's results, in receipt order
    const totalCents = receipts.reduce((sum, r) => sum + r.amountCents, 0);
    return { totalCents, needsApproval: totalCents > this.policy.approvalThresholdCents };
  }

  // Above the threshold: ask the manager, then wait (no worker held) for the "approved" signal.
  @Step({ runIf: (ctx) => (ctx.results['total'] as Total).needsApproval })
  @DependsOn('total')
  async manager_approval(ctx: StepContext<ExpenseReport>) {
    const { reportId, managerId } = ctx.task.context;
    const { totalCents } = ctx.results['total'] as Total;
    await this.notifier.send(managerId, `Please approve expense report ${reportId} (${euros(totalCents)})`);
    return ctx.waitForSignal('approved', { timeoutMs: this.policy.approvalTimeoutMs });
  }

  // Otherwise: approved by the policy. Exactly one of the two runs, the other is skipped.
  @Step({ runIf: (ctx) => !(ctx.results['total'] as Total).needsApproval })
  @DependsOn('total')
  auto_approve(): Approval {
    return { approvedBy: 'policy' };
  }

  // The join: runs after whichever approval ran. The money moves in a child task of the payments team.
  @Step()
  @DependsOn('total', 'manager_approval', 'auto_approve')
  payout(ctx: StepContext<ExpenseReport>) {
    const { reportId, employeeId } = ctx.task.context;
    const { totalCents } = ctx.results['total'] as Total;
    return ctx.startChild({ name: 'payout', namespace: 'payments', context: { reportId, employeeId, amountCents: totalCents } });
  }

  @Step()
  @DependsOn('payout', 'manager_approval', 'auto_approve')
  notify(ctx: StepContext<ExpenseReport>) {
    const { reportId, employeeId } = ctx.task.context;
    const approval = (ctx.results['manager_approval'] ?? ctx.results['auto_approve']) as Approval; // the skipped one has no entry
    const payout = ctx.results['payout'] as { taskId: string; results: { transfer: Transfer } };
    const { transferId, amountCents } = payout.results.transfer;
    return this.notifier.send(employeeId, `Expense report ${reportId}: ${euros(amountCents)} approved by ${approval.approvedBy}, paid (${transferId})`);
  }
}
// #endregion
