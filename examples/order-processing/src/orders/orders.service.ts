import { Injectable } from '@nestjs/common';
import { TaskerService, TaskView } from 'nestjs-tasker';
import type { OrderContext } from './order.dto';

/** What the rest of the app calls: one task per order, however many times checkout retries the call. */
@Injectable()
export class OrdersService {
  constructor(private readonly tasker: TaskerService) {}

  placeOrder(order: OrderContext): Promise<TaskView> {
    return this.tasker.createTask({
      name: 'order_processing',
      namespace: 'fulfillment',
      context: { ...order },
      idempotencyKey: `order-${order.orderId}`,
      initiator: 'checkout',
      tags: ['web'],
    });
  }
}
