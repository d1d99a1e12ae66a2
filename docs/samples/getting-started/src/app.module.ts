// #region app-module
import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TaskerModule } from 'nestjs-tasker';
import { OnboardingModule } from './onboarding/onboarding.module';

@Module({
  imports: [
    EventEmitterModule.forRoot(), // Tasker publishes its lifecycle events here
    ScheduleModule.forRoot(), // and schedules its safety-net sweep here
    TaskerModule.forRoot({ databaseUrl: process.env.DATABASE_URL }),
    OnboardingModule,
  ],
})
export class AppModule {}
// #endregion
