import { Injectable } from '@nestjs/common';
import { httpStep } from 'nestjs-tasker';

/** Where the payment provider is. Tests override this provider with their fake server's URL. */
@Injectable()
export class PaymentsConfig {
  baseUrl = process.env.PAYMENT_API_URL ?? 'http://127.0.0.1:4010';
}

export interface Charge {
  chargeId: string;
  status: 'succeeded';
  amountCents: number;
}

/**
 * The payment provider's API, called with `httpStep`: 2xx → the parsed body; 429/503 → retried
 * after the server's Retry-After; other 4xx (a declined card is 422) → PermanentError, no retry;
 * 5xx and network errors → retried with backoff. The step's signal aborts the request on timeout.
 */
@Injectable()
export class PaymentsClient {
  constructor(private readonly config: PaymentsConfig) {}

  async charge(order: { orderId: string; amountCents: number }, signal: AbortSignal): Promise<Charge> {
    const res = await httpStep<Charge>({ signal }, `${this.config.baseUrl}/charges`, {
      json: order,
      // A step can run more than once (a retry after a timeout, a crashed worker): the provider
      // must see the same key every time so that the customer is charged once.
      headers: { 'idempotency-key': `order-${order.orderId}` },
    });
    return res.body;
  }
}
