import { INestApplicationContext, Provider, Type } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TaskerEventPayload, TaskerModule, TaskerModuleOptions, TaskerService } from 'nestjs-tasker';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { databaseUrl } from './database';

export interface TestApp {
  app: INestApplicationContext;
  tasker: TaskerService;
  /** Every Tasker event this app emitted, in order. */
  events: TaskerEventPayload[];
  get<T>(token: Type<T> | string | symbol): T;
  close(): Promise<void>;
}

/** Fast timings for tests: small backoff, quick polls and sweeps. Timing is waited on, never asserted. */
export function testOptions(schema: string, overrides: Partial<TaskerModuleOptions> = {}): TaskerModuleOptions {
  return {
    databaseUrl: databaseUrl(),
    schema,
    logging: false,
    poolSize: 5,
    ...overrides,
    worker: { pollIntervalMs: 100, sweepIntervalMs: 100, leaseMs: 5_000, shutdownTimeoutMs: 2_000, ...(overrides.worker ?? {}) },
    defaults: { backoff: { baseMs: 10, maxMs: 50, jitter: 0 }, ...(overrides.defaults ?? {}) },
  };
}

/** Boots a Nest app with Tasker on its own schema, the given handler classes and extra providers. */
export async function startApp(schema: string, providers: Provider[], overrides: Partial<TaskerModuleOptions> = {}): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [EventEmitterModule.forRoot(), ScheduleModule.forRoot(), TaskerModule.forRoot(testOptions(schema, overrides))],
    providers,
  }).compile();
  const events: TaskerEventPayload[] = [];
  moduleRef.get(EventEmitter2).onAny((name: string | string[], payload: TaskerEventPayload) => {
    if (typeof name === 'string' && name.startsWith('tasker.')) events.push(payload);
  });
  const app = await moduleRef.init();
  return {
    app,
    tasker: app.get(TaskerService),
    events,
    get: (t) => app.get(t as never),
    close: () => app.close(),
  };
}
