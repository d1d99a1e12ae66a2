import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TaskerModule } from 'nestjs-tasker';
import { RefundsModule } from './refunds/refunds.module';

@Module({
  imports: [
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TaskerModule.forRoot({ databaseUrl: process.env.DATABASE_URL, schema: process.env.TASKER_SCHEMA ?? 'tasker' }),
    RefundsModule,
  ],
})
export class AppModule {}
