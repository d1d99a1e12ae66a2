import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TaskerModule } from 'nestjs-tasker';
import { ExpensesModule } from './expenses/expenses.module';
import { PaymentsModule } from './payments/payments.module';

@Module({
  imports: [
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TaskerModule.forRoot({ databaseUrl: process.env.DATABASE_URL, schema: process.env.TASKER_SCHEMA ?? 'tasker' }),
    ExpensesModule,
    PaymentsModule,
  ],
})
export class AppModule {}
