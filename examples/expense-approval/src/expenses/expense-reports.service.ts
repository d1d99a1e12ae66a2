import { Injectable } from '@nestjs/common';
import { TaskerService } from 'nestjs-tasker';
import type { Approval, ExpenseReport } from './expense.types';

/** What the app's controllers call: submit a report, approve one. */
@Injectable()
export class ExpenseReports {
  constructor(private readonly tasker: TaskerService) {}

  /** One task per report, however often the employee presses "submit". */
  submit(report: ExpenseReport) {
    return this.tasker.createTask({
      name: 'expense_approval',
      namespace: 'expenses',
      context: report,
      idempotencyKey: `expense-${report.reportId}`,
      initiator: `employee:${report.employeeId}`,
    });
  }

  // #region approve
  /** The manager's "Approve" button: the waiting manager_approval step completes with this payload. */
  approve(taskId: string, managerId: string, comment?: string) {
    const approval: Approval = { approvedBy: managerId, ...(comment ? { comment } : {}) };
    return this.tasker.signal(taskId, 'approved', approval, { actor: `manager:${managerId}`, ...(comment ? { reason: comment } : {}) });
  }
  // #endregion
}
