import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TaskerModule } from 'nestjs-tasker';
import { PipelineModule } from './pipeline/pipeline.module';

@Module({
  imports: [
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TaskerModule.forRoot({
      databaseUrl: process.env.DATABASE_URL,
      schema: process.env.TASKER_SCHEMA ?? 'tasker',
      worker: { concurrency: 4 }, // the three extracts run at once
    }),
    PipelineModule,
  ],
})
export class AppModule {}
