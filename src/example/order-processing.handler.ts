import { DependsOn, Step, StepContext, TaskHandler } from 'nestjs-tasker';
import { PaymentsService } from './payments.service';

export interface OrderContext {
  orderId: string;
  amountCents: number;
  items: { sku: string; quantity: number }[];
}

/** The seed's example workflow: validate_payment → update_inventory → send_confirmation. */
@TaskHandler({ name: 'order_processing', namespace: 'fulfillment', version: '1.0.0', description: 'Charge, reserve stock, confirm' })
export class OrderProcessingHandler {
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

  @Step({ name: 'send_confirmation' })
  @DependsOn('update_inventory')
  async sendConfirmation(ctx: StepContext<OrderContext>) {
    return { sentTo: `customer-of-${ctx.task.context.orderId}`, at: new Date().toISOString() };
  }
}
