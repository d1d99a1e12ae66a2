import { DynamicModule, Module, Provider } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TaskerModule } from 'nestjs-tasker';
import { TaskerAdminModule } from 'nestjs-tasker/admin';
import { OrderProcessingHandler } from './example/order-processing.handler';
import { PaymentsService } from './example/payments.service';

export interface AppModuleOptions {
  databaseUrl: string;
  schema?: string;
  workerEnabled: boolean;
  /** Register the example workflow's handler (demo mode). */
  example: boolean;
}

/**
 * The admin microservice: Tasker's admin API in API-only mode by default. It knows every task type
 * from the definitions the workers recorded in the database; it does not need their code.
 */
@Module({})
export class AppModule {
  static forRoot(o: AppModuleOptions): DynamicModule {
    const example: Provider[] = o.example ? [PaymentsService, OrderProcessingHandler] : [];
    return {
      module: AppModule,
      imports: [
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
        TaskerModule.forRoot({ databaseUrl: o.databaseUrl, ...(o.schema ? { schema: o.schema } : {}), worker: { enabled: o.workerEnabled } }),
        TaskerAdminModule.forRoot(),
      ],
      providers: example,
    };
  }
}
