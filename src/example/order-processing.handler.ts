import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';
import { CarrierService } from './carrier.service';
import { PaymentsService } from './payments.service';

export interface OrderContext {
  orderId: string;
  amountCents: number;
  items: { sku: string; quantity: number }[];
  /** Demo only: until this ISO time the carrier is down and book_shipment fails (CARRIER_UNAVAILABLE). */
  carrierOutageUntil?: string;
}

/** The demo's workflow: validate_payment → update_inventory → book_shipment → send_confirmation. */
@TaskHandler({ name: 'order_processing', namespace: 'fulfillment', version: '1.1.0', description: 'Charge, reserve stock, ship, confirm' })
export class OrderProcessingHandler {
  private readonly carrier = new CarrierService();

  constructor(private readonly payments: PaymentsService) {}

  @Step({ name: 'validate_payment', retryLimit: 3, timeoutMs: 30_000 })
  async validatePayment(ctx: StepContext<OrderContext>) {
    const { orderId, amountCents } = ctx.task.context;
    return this.payments.authorize(orderId, amountCents);
  }

  @Step({ name: 'update_inventory' })
  @DependsOn('validate_payment')
  async updateInventory(ctx: StepContext<OrderContext>) {
    const { paymentId } = ctx.results['validate_payment'] as { paymentId: string };
    const reserved = ctx.task.context.items.reduce((n, i) => n + i.quantity, 0);
    return { paymentId, reserved };
  }

  // Two attempts, so a demo outage ends in error quickly and the task waits for an operator's retry.
  @Step({ name: 'book_shipment', retryLimit: 2 })
  @DependsOn('update_inventory')
  async bookShipment(ctx: StepContext<OrderContext>) {
    const { orderId, carrierOutageUntil } = ctx.task.context;
    const { reserved } = ctx.results['update_inventory'] as { reserved: number };
    return this.carrier.book(orderId, reserved, carrierOutageUntil);
  }

  @Step({ name: 'send_confirmation' })
  @DependsOn('book_shipment')
  async sendConfirmation(ctx: StepContext<OrderContext>) {
    return { sentTo: `customer-of-${ctx.task.context.orderId}`, at: new Date().toISOString() };
  }
}
