import { Injectable, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { IsIn, Matches } from 'class-validator';
import { DependsOn, Step, TaskerModule, TaskerService, TaskHandler } from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';

/** Stands in for the invoicing system the workflow talks to. */
@Injectable()
export class InvoiceStore {
  readonly uploads: string[][] = [];

  async list(month: string, region: string): Promise<string[]> {
    return [`${region}-${month}-001`, `${region}-${month}-002`];
  }

  async render(id: string, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    return `https://files.example.com/${id}.pdf`;
  }

  async upload(urls: string[]): Promise<{ batchId: string; count: number }> {
    this.uploads.push(urls);
    return { batchId: `batch-${this.uploads.length}`, count: urls.length };
  }
}

// #region context-dto
export class InvoiceExportContext {
  @Matches(/^\d{4}-\d{2}$/, { message: 'month must look like 2024-05' })
  month!: string;

  @IsIn(['eu', 'us'])
  region!: string;
}
// #endregion

// #region handler
@TaskHandler({
  name: 'invoice_export',
  namespace: 'billing', // default: 'default'
  version: '1.0.0', // default: '0.1.0'
  description: 'Monthly invoices to the ERP',
  context: InvoiceExportContext, // optional: createTask validates the context with it
})
export class InvoiceExportWorkflow {
  constructor(private readonly invoices: InvoiceStore) {} // ordinary dependency injection

  @Step({ name: 'collect_invoices' }) // no @DependsOn: a root step, it runs first
  collect(ctx: StepContext<InvoiceExportContext>) {
    const { month, region } = ctx.task.context;
    return this.invoices.list(month, region); // the value (JSON) is stored as the step's results
  }

  @Step({ name: 'render_pdfs', timeoutMs: 600_000, retryLimit: 5, backoff: { baseMs: 5_000, maxMs: 60_000 } })
  @DependsOn('collect_invoices')
  async render(ctx: StepContext<InvoiceExportContext>) {
    const ids = ctx.results['collect_invoices'] as string[];
    const urls: string[] = [];
    for (const id of ids) {
      ctx.signal.throwIfAborted(); // aborted on timeout, task cancellation and worker shutdown
      urls.push(await this.invoices.render(id, ctx.signal));
      await ctx.heartbeat(); // renews this attempt's lease now
    }
    return { urls };
  }

  @Step({ name: 'upload_to_erp', retryable: false }) // one attempt only: the ERP import is not idempotent
  @DependsOn('render_pdfs')
  upload(ctx: StepContext<InvoiceExportContext>) {
    const { urls } = ctx.results['render_pdfs'] as { urls: string[] };
    return this.invoices.upload(urls);
  }

  @Step() // name: the method name, 'notify_accounting'
  @DependsOn('upload_to_erp')
  notify_accounting(ctx: StepContext<InvoiceExportContext>) {
    const { batchId } = ctx.results['upload_to_erp'] as { batchId: string };
    return { message: `Invoices ${ctx.task.context.month} (${ctx.task.context.region}) uploaded as ${batchId}` };
  }
}
// #endregion

// #region start
@Injectable()
export class InvoiceExports {
  constructor(private readonly tasker: TaskerService) {}

  start(month: string, region: 'eu' | 'us') {
    return this.tasker.createTask({
      name: 'invoice_export',
      namespace: 'billing',
      context: { month, region },
      idempotencyKey: `invoices-${month}-${region}`, // asking twice returns the first task
      tags: ['month-end', region], // listTasks({ tag }) finds them
      initiator: 'month-end-scheduler', // who asked: stored with the task
      reason: `month end ${month}`,
    });
  }

  startLater(month: string, region: 'eu' | 'us', at: Date) {
    // No step starts before `at`; the task is pending until then.
    return this.tasker.createTask({ name: 'invoice_export', namespace: 'billing', context: { month, region }, runAt: at });
  }
}
// #endregion

// #region inspect
export async function describeTask(tasker: TaskerService, taskId: string): Promise<string[]> {
  const task = await tasker.getTask(taskId);
  return task.steps.map(
    (s) =>
      `${s.name}: ${s.state}, attempt ${s.attempts}/${s.retryLimit}, ${s.readiness.reason}` +
      (s.lastError ? `, last error ${s.lastError.name}: ${s.lastError.message}` : ''),
  );
}
// #endregion

// #region feature-module
@Module({
  providers: [InvoiceStore, InvoiceExportWorkflow, InvoiceExports],
  exports: [InvoiceExports],
})
export class InvoicingModule {}
// #endregion

/** Stands in for your configuration provider (ConfigService...). */
@Injectable()
export class AppSettings {
  readonly databaseUrl = process.env.DATABASE_URL!;
  readonly workerConcurrency = Number(process.env.WORKER_CONCURRENCY ?? 10);
}

@Module({ providers: [AppSettings], exports: [AppSettings] })
export class SettingsModule {}

// #region for-root-async
@Module({
  imports: [
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TaskerModule.forRootAsync({
      imports: [SettingsModule],
      inject: [AppSettings],
      useFactory: (settings: AppSettings) => ({
        databaseUrl: settings.databaseUrl,
        worker: { concurrency: settings.workerConcurrency },
      }),
    }),
    InvoicingModule,
  ],
})
export class AppModule {}
// #endregion
