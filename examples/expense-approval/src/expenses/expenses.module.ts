import { Module } from '@nestjs/common';
import { ExpenseApprovalWorkflow } from './expense-approval.handler';
import { ExpensePolicy } from './expense-policy';
import { ExpenseReports } from './expense-reports.service';
import { Notifier } from './notifier.service';
import { ReceiptChecker } from './receipt-checker.service';

/**
 * The expense feature. Its payout runs as a child task of `payments/payout`, whose handler is in
 * PaymentsModule: a worker with that module (this app, or the payments team's) runs it.
 */
@Module({
  providers: [ExpensePolicy, ReceiptChecker, Notifier, ExpenseApprovalWorkflow, ExpenseReports],
  exports: [ExpenseReports],
})
export class ExpensesModule {}
