import { Injectable, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TaskerModule, TaskerService } from 'nestjs-tasker';
import { LinearWorkflow } from '../fixtures/linear.workflow';
import { databaseUrl, dropSchema, uniqueSchema } from '../support/database';

@Injectable()
class Settings {
  readonly url = databaseUrl();
}

@Module({ providers: [Settings], exports: [Settings] })
class SettingsModule {}

/** forRootAsync, the way apps wire TaskerModule to ConfigService: options come from an injected provider. */
describe('TaskerModule.forRootAsync', () => {
  const schema = uniqueSchema();
  afterAll(() => dropSchema(schema));

  it('boots from a factory with injected settings and runs a workflow', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
        TaskerModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: async (s: Settings) => ({ databaseUrl: s.url, schema, logging: false, worker: { pollIntervalMs: 100 } }),
        }),
      ],
      providers: [LinearWorkflow],
    }).compile();
    const app = await moduleRef.init();
    try {
      const tasker = app.get(TaskerService);
      const task = await tasker.createTask({ name: 'linear', namespace: 'scenarios', context: { x: 6 } });
      const done = await tasker.waitForTask(task.id, { timeoutMs: 20_000 });
      expect(done.state).toBe('complete');
      expect(done.steps.map((s) => s.results)).toEqual([36, 46, 138, 69]);
    } finally {
      await app.close();
    }
  });

  it('reports bad options returned by the factory with the same clear message', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        EventEmitterModule.forRoot(),
        ScheduleModule.forRoot(),
        TaskerModule.forRootAsync({ useFactory: () => ({ databaseUrl: databaseUrl(), schema, worker: { concurrency: 0 } }) }),
      ],
    })
      .compile()
      .then((m) => m.init())
      .catch((e: Error) => e);
    expect(moduleRef).toBeInstanceOf(Error);
    expect((moduleRef as Error).message).toBe('TaskerModule options are invalid: worker.concurrency must be a positive integer.');
  });
});
