import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TaskerModule } from 'nestjs-tasker';
import { OrderProcessingHandler } from './example/order-processing.handler';
import { PaymentsService } from './example/payments.service';

/** The admin microservice: Tasker with the example workflow. */
@Module({})
export class AppModule {
  static forRoot(databaseUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [EventEmitterModule.forRoot(), ScheduleModule.forRoot(), TaskerModule.forRoot({ databaseUrl })],
      providers: [PaymentsService, OrderProcessingHandler],
    };
  }
}
