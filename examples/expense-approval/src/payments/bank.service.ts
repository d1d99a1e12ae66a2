import { Injectable } from '@nestjs/common';
import { PermanentError } from 'nestjs-tasker';
import type { Transfer } from '../expenses/expense.types';

/** Stands in for the bank's API: one transfer per idempotency key, refused to blocked accounts. */
@Injectable()
export class Bank {
  readonly blocked = new Set<string>();
  readonly transfers = new Map<string, Transfer & { employeeId: string }>();
  attempts = 0;

  async transfer(employeeId: string, amountCents: number, idempotencyKey: string): Promise<Transfer> {
    this.attempts++;
    if (this.blocked.has(employeeId)) throw new PermanentError(`The account of ${employeeId} is blocked`, { code: 'ACCOUNT_BLOCKED' });
    const done = this.transfers.get(idempotencyKey) ?? { transferId: `tr-${idempotencyKey}`, amountCents, employeeId };
    this.transfers.set(idempotencyKey, done);
    return { transferId: done.transferId, amountCents: done.amountCents };
  }
}
