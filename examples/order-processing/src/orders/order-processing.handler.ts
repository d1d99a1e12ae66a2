import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';
import { InventoryService, Mailer } from './fulfillment.services';
import { OrderContext } from './order.dto';
import { Charge, PaymentsClient } from './payments.client';

/** The seed's workflow: validate_payment → update_inventory → send_confirmation. */
@TaskHandler({
  name: 'order_processing',
  namespace: 'fulfillment',
  version: '1.0.0',
  description: 'Charge the card, reserve the items, confirm by e-mail',
  context: OrderContext,
})
export class OrderProcessingHandler {
  constructor(
    private readonly payments: PaymentsClient,
    private readonly inventory: InventoryService,
    private readonly mailer: Mailer,
  ) {}

  // Up to 5 attempts; a 429 waits for the provider's Retry-After, other retryable failures back off 2 s, 4 s, 8 s...
  @Step({ name: 'validate_payment', retryLimit: 5, timeoutMs: 30_000, backoff: { baseMs: 2_000, maxMs: 60_000 } })
  async validatePayment(ctx: StepContext<OrderContext>): Promise<Charge> {
    const { orderId, amountCents } = ctx.task.context;
    return this.payments.charge({ orderId, amountCents }, ctx.signal);
  }

  @Step({ name: 'update_inventory' })
  @DependsOn('validate_payment')
  async updateInventory(ctx: StepContext<OrderContext>) {
    const { chargeId } = ctx.results['validate_payment'] as Charge;
    return { chargeId, ...this.inventory.reserve(ctx.task.context.orderId, ctx.task.context.items) };
  }

  @Step({ name: 'send_confirmation' })
  @DependsOn('update_inventory')
  async sendConfirmation(ctx: StepContext<OrderContext>) {
    const { reservationId } = ctx.results['update_inventory'] as { reservationId: string };
    const { messageId } = await this.mailer.send(ctx.task.context.email, `Order ${ctx.task.context.orderId} confirmed`);
    return { messageId, reservationId };
  }
}
