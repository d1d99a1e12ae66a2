/** One receipt of an expense report, as the employee uploaded it. */
export type Receipt = { id: string; vendor: string; amountCents: number };

/** The task's context: the report the employee submitted. */
export type ExpenseReport = { reportId: string; employeeId: string; managerId: string; receipts: Receipt[] };

/** What checking a receipt gives (one instance of the `receipts` map step). */
export type CheckedReceipt = { receiptId: string; amountCents: number; category: string };

/** The `total` step's results: the sum, and whether a manager must approve it. */
export type Total = { totalCents: number; needsApproval: boolean };

/** The `approved` signal's payload (from the manager), or `auto_approve`'s results. */
export type Approval = { approvedBy: string; comment?: string };

/** The child task's context (`payments/payout`). */
export type PayoutRequest = { reportId: string; employeeId: string; amountCents: number };

/** What the bank answers for a transfer (the payout's `transfer` step). */
export type Transfer = { transferId: string; amountCents: number };
