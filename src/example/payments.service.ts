import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';

/** Stand-in for a payment provider client, so the example runs without one. */
@Injectable()
export class PaymentsService {
  async authorize(orderId: string, amountCents: number): Promise<{ paymentId: string; amountCents: number }> {
    await new Promise((r) => setTimeout(r, 50));
    return { paymentId: `pay_${orderId}_${randomUUID().slice(0, 8)}`, amountCents };
  }
}
