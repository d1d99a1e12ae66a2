import { Module } from '@nestjs/common';
import { InventoryService, Mailer } from './fulfillment.services';
import { OrderAlerts } from './order-alerts.listener';
import { OrderProcessingHandler } from './order-processing.handler';
import { OrdersService } from './orders.service';
import { PaymentsClient, PaymentsConfig } from './payments.client';

/**
 * The feature: the workflow and what it needs. It does not import TaskerModule itself (the app root
 * does, once), so a test can boot it with the testing kit: `createTaskerTestingApp({ imports: [OrdersModule] })`.
 */
@Module({
  providers: [PaymentsConfig, PaymentsClient, InventoryService, Mailer, OrderProcessingHandler, OrdersService, OrderAlerts],
  exports: [OrdersService],
})
export class OrdersModule {}
