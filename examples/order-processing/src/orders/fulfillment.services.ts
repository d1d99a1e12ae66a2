import { Injectable } from '@nestjs/common';
import { PermanentError } from 'nestjs-tasker';
import type { OrderItem } from './order.dto';

/** In-memory stock. Reservations are keyed by order, so running the step twice reserves once. */
@Injectable()
export class InventoryService {
  readonly stock = new Map<string, number>([
    ['book', 10],
    ['pen', 100],
  ]);
  private readonly reservations = new Map<string, string>();

  reserve(orderId: string, items: OrderItem[]): { reservationId: string; units: number } {
    const units = items.reduce((n, i) => n + i.quantity, 0);
    const existing = this.reservations.get(orderId);
    if (existing) return { reservationId: existing, units };
    for (const item of items) {
      if ((this.stock.get(item.sku) ?? 0) < item.quantity) {
        // Retrying will not bring stock back: fail now, an operator decides what to do.
        throw new PermanentError(`Not enough ${item.sku} in stock for order ${orderId}`, { code: 'OUT_OF_STOCK' });
      }
    }
    for (const item of items) this.stock.set(item.sku, this.stock.get(item.sku)! - item.quantity);
    const reservationId = `res_${orderId}`;
    this.reservations.set(orderId, reservationId);
    return { reservationId, units };
  }
}

/** Stands in for an e-mail service; remembers what it sent. */
@Injectable()
export class Mailer {
  readonly sent: { to: string; subject: string }[] = [];

  async send(to: string, subject: string): Promise<{ messageId: string }> {
    this.sent.push({ to, subject });
    return { messageId: `msg_${this.sent.length}` };
  }
}
