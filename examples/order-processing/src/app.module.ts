import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TaskerModule } from 'nestjs-tasker';
import { OrdersModule } from './orders/orders.module';

@Module({
  imports: [
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TaskerModule.forRoot({ databaseUrl: process.env.DATABASE_URL, schema: process.env.TASKER_SCHEMA ?? 'tasker' }),
    OrdersModule,
  ],
})
export class AppModule {}
