import { Injectable, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TaskerModule, TaskerService } from 'nestjs-tasker';
import { DataSource } from 'typeorm';

// #region transaction-module
@Module({
  imports: [
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL }),
    TaskerModule.forRoot({ dataSourceName: 'default' }), // Tasker uses the app's DataSource
  ],
})
export class AppModule {}
// #endregion

// #region transaction
@Injectable()
export class Checkout {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tasker: TaskerService,
  ) {}

  placeOrder(orderId: string, amountCents: number) {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('INSERT INTO orders (id, amount_cents) VALUES ($1, $2)', [orderId, amountCents]);
      // Written in the same transaction: the task exists if and only if the order row does.
      return this.tasker.createTask({ name: 'order_processing', namespace: 'fulfillment', context: { orderId } }, { manager });
    });
  }
}
// #endregion
