/**
 * One worker process of a fault run: a Nest app with TaskerModule and the workload's handlers,
 * configured by environment (see fleet.ts). Prints "ready <owner>" once its worker runs. On
 * SIGTERM it shuts down gracefully (app.close(): stop claiming, finish or release running steps)
 * and prints "stopped" before exiting 0. Warnings and errors go to stderr.
 * Run with: node -r @swc-node/register test/faults/support/fault-worker.ts
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { appendFileSync } from 'node:fs';
import { ScheduleModule } from '@nestjs/schedule';
import { TaskerModule } from 'nestjs-tasker';
import { TaskerWorker } from '../../../libs/tasker/src/orchestration/tasker.worker';
import { workloadProviders, WorkloadOptions } from './workload';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const workload = JSON.parse(env('FAULT_WORKLOAD')) as WorkloadOptions;

// Diagnosis: an 'error' a pg Client emits with no listener crashes the process; say which client it was.
if (process.env.FAULT_DIAG) {
  const { Client } = require('pg');
  const connect = Client.prototype.connect;
  Client.prototype.connect = function (this: any, ...args: unknown[]) {
    this.__origin = new Error('client created at').stack;
    return connect.apply(this, args);
  };
  const emit = Client.prototype.emit;
  Client.prototype.emit = function (this: any, name: string, ...args: unknown[]) {
    if (name === 'error' && this.listenerCount('error') === 0) {
      process.stderr.write(`UNHANDLED CLIENT ERROR ${String(args[0])}\n${this.__origin}\nemitted at ${new Error().stack}\n`);
    }
    return emit.call(this, name, ...args);
  };
}

@Module({
  imports: [
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TaskerModule.forRoot({
      databaseUrl: env('DATABASE_URL'),
      schema: env('TASKER_SCHEMA'),
      logging: false,
      poolSize: num('POOL_SIZE', 5),
      ...(process.env.STATEMENT_TIMEOUT_MS ? { statementTimeoutMs: num('STATEMENT_TIMEOUT_MS', 60_000) } : {}),
      worker: {
        concurrency: num('CONCURRENCY', 8),
        // FAULT_PREFETCH=n when running the suite: every worker also holds n steps claimed ahead.
        prefetch: num('FAULT_PREFETCH', 0),
        leaseMs: num('LEASE_MS', 2_000),
        pollIntervalMs: num('POLL_MS', 200),
        sweepIntervalMs: num('SWEEP_MS', 250),
        shutdownTimeoutMs: num('SHUTDOWN_TIMEOUT_MS', 1_000),
      },
    }),
  ],
  providers: workloadProviders(workload),
})
class FaultWorkerModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(FaultWorkerModule, { logger: ['error', 'warn', 'fatal'] });
  const eventsFile = process.env.EVENTS_FILE;
  if (eventsFile) {
    // Written synchronously: an event published is in the file, whatever happens to the process next.
    app.get(EventEmitter2).onAny((name: string | string[], p: { taskId: string; stepName?: string; attempt?: number; occurredAt: Date }) => {
      if (typeof name !== 'string' || !name.startsWith('tasker.')) return;
      appendFileSync(eventsFile, `${JSON.stringify({ event: name, taskId: p.taskId, stepName: p.stepName, attempt: p.attempt, occurredAt: p.occurredAt })}\n`);
    });
  }
  let closing = false;
  process.on('SIGTERM', () => {
    if (closing) return;
    closing = true;
    void (async () => {
      await app.close(); // also closes the recorder's pool
      process.stdout.write('stopped\n');
      process.exit(0);
    })();
  });
  process.stdout.write(`ready ${app.get(TaskerWorker).owner}\n`);
}

main().catch((e) => {
  process.stderr.write(`fault worker failed to boot: ${(e as Error).stack}\n`);
  process.exit(1);
});
