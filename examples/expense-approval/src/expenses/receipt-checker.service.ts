import { Injectable } from '@nestjs/common';
import { PermanentError } from 'nestjs-tasker';
import type { CheckedReceipt, Receipt } from './expense.types';

const CATEGORIES: Record<string, string> = { 'Rail Europe': 'travel', 'Hotel Lumière': 'lodging', 'Café Central': 'meals' };

/** Stands in for the receipt scanning service (OCR and checks). */
@Injectable()
export class ReceiptChecker {
  /** Receipts the scanner cannot read (until the employee uploads them again). */
  readonly unreadable = new Set<string>();
  /** Every receipt id checked, in order. */
  readonly checked: string[] = [];

  async check(receipt: Receipt): Promise<CheckedReceipt> {
    this.checked.push(receipt.id);
    if (this.unreadable.has(receipt.id)) {
      throw new PermanentError(`Receipt ${receipt.id} is unreadable; ask for a new scan`, { code: 'RECEIPT_UNREADABLE' });
    }
    return { receiptId: receipt.id, amountCents: receipt.amountCents, category: CATEGORIES[receipt.vendor] ?? 'other' };
  }
}
