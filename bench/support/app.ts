import 'reflect-metadata';
import { INestApplicationContext, Module, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TaskerModule, TaskerModuleOptions, TaskerService } from '../../libs/tasker/src';

export interface BenchApp {
  app: INestApplicationContext;
  tasker: TaskerService;
  /** Resolves when the task with this id emits tasker.task.completed (in this process). */
  completed(taskId: string): Promise<void>;
  close(): Promise<void>;
}

/** Production defaults except what a bench must set: no log lines, its own database and schema. */
export function benchOptions(databaseUrl: string, worker: TaskerModuleOptions['worker'], poolSize = 10): TaskerModuleOptions {
  return { databaseUrl, schema: 'tasker', logging: false, poolSize, worker };
}

/** Boots Tasker in this process with the given task types. */
export async function startBenchApp(options: TaskerModuleOptions, handlers: Type[]): Promise<BenchApp> {
  @Module({
    imports: [EventEmitterModule.forRoot(), ScheduleModule.forRoot(), TaskerModule.forRoot(options)],
    providers: handlers,
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
  const waiting = new Map<string, () => void>();
  const done = new Set<string>();
  app.get(EventEmitter2).on('tasker.task.completed', (p: { taskId: string }) => {
    const w = waiting.get(p.taskId);
    if (w) w();
    else done.add(p.taskId);
  });
  return {
    app,
    tasker: app.get(TaskerService),
    completed: (taskId) =>
      done.delete(taskId) ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(taskId, () => (waiting.delete(taskId), resolve()))),
    close: () => app.close(),
  };
}
