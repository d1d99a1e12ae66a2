import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TaskerModule } from 'nestjs-tasker';
import { InvoicingModule } from './workflows';
import { ShippingModule } from './retries';

// #region worker-options
export const workerProcess = TaskerModule.forRoot({
  databaseUrl: process.env.DATABASE_URL,
  poolSize: 20, // connections Tasker opens in this process (default 10)
  worker: {
    concurrency: 16, // steps running at once in this process (default 10)
    prefetch: 0, // steps claimed ahead, started as running ones finish (default 0: for short steps only)
    leaseMs: 30_000, // a claimed step is this worker's for 30 s, renewed while it runs (default 30 s)
    pollIntervalMs: 1_000, // fallback poll; NOTIFY and finished steps wake workers at once (default 1 s)
    sweepIntervalMs: 5_000, // how often expired leases are reclaimed (default 5 s)
    shutdownTimeoutMs: 25_000, // at shutdown, running steps get this long to finish (default 10 s)
  },
});
// #endregion

// #region api-only
/** A process that creates and inspects tasks but never runs a step (an API, the admin service...). */
@Module({
  imports: [
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TaskerModule.forRoot({ databaseUrl: process.env.DATABASE_URL, worker: { enabled: false } }),
  ],
})
export class ApiModule {}
// #endregion

// #region split-fleet
/** Billing workers: they register (and so claim) only the billing workflows. */
@Module({
  imports: [EventEmitterModule.forRoot(), ScheduleModule.forRoot(), TaskerModule.forRoot({ databaseUrl: process.env.DATABASE_URL }), InvoicingModule],
})
export class BillingWorkerModule {}

/** Shipping workers, scaled on their own: another deployment of the same code base, another module. */
@Module({
  imports: [EventEmitterModule.forRoot(), ScheduleModule.forRoot(), TaskerModule.forRoot({ databaseUrl: process.env.DATABASE_URL }), ShippingModule],
})
export class ShippingWorkerModule {}

export async function startWorker() {
  const root = process.env.WORKER_POOL === 'shipping' ? ShippingWorkerModule : BillingWorkerModule;
  const app = await NestFactory.createApplicationContext(root); // no HTTP needed for a worker
  app.enableShutdownHooks(); // SIGTERM: stop claiming, let running steps finish, then exit
}
// #endregion
