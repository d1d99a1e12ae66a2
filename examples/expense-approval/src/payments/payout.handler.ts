import { Step, TaskHandler } from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';
import type { PayoutRequest } from '../expenses/expense.types';
import { Bank } from './bank.service';

// #region payout
/** The payments team's workflow, in its own namespace; expense approval starts it as a child task. */
@TaskHandler({ name: 'payout', namespace: 'payments', version: '1.0.0', description: 'Transfer money to an employee' })
export class PayoutWorkflow {
  constructor(private readonly bank: Bank) {}

  @Step({ retryLimit: 5 })
  transfer(ctx: StepContext<PayoutRequest>) {
    const { employeeId, amountCents, reportId } = ctx.task.context;
    return this.bank.transfer(employeeId, amountCents, `expense-${reportId}`); // the same key on every attempt
  }
}
// #endregion
