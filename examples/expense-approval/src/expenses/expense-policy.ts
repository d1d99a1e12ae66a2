import { Injectable } from '@nestjs/common';

/** The company's rules (from configuration in a real app). */
@Injectable()
export class ExpensePolicy {
  /** Reports above this total need a manager's approval; smaller ones are approved automatically. */
  approvalThresholdCents = 50_000;
  /** How long a manager has to approve before the task ends in error (WAIT_TIMEOUT). */
  approvalTimeoutMs = 3 * 86_400_000;
}
