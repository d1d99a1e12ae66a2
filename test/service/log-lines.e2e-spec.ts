import { LoggerService } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { httpStep, Step, StepContext, TaskerModule, TaskerService, TaskHandler } from 'nestjs-tasker';
import { createServer, Server } from 'node:http';
import { dropSchema, uniqueSchema } from '../support/database';
import { testOptions } from '../support/tasker-app';
import { waitFor } from '../support/wait';

const FAKE = '[Nest] 1  - 01/01/2026, 00:00:00     LOG [Tasker] tasker.task.completed default/forged@1 task=1';

/** Every message the app logs, as written. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private add = (message: unknown) => void this.lines.push(String(message));
  log = this.add;
  error = this.add;
  warn = this.add;
  debug = this.add;
  verbose = this.add;
  fatal = this.add;
}

let upstreamUrl = '';

@TaskHandler({ name: 'calls_upstream', namespace: 'logs' })
class CallsUpstream {
  @Step({ retryLimit: 1 })
  async call(ctx: StepContext) {
    return (await httpStep(ctx, upstreamUrl)).body;
  }
}

/** Log forging: text from callers and upstream services never starts a log line of its own. */
describe('log lines', () => {
  const schema = uniqueSchema('log_lines');
  const logger = new CapturingLogger();
  let upstream: Server;
  let tasker: TaskerService;
  let close: () => Promise<void>;

  beforeAll(async () => {
    // An upstream service whose error body holds a newline and what looks like a log line.
    upstream = createServer((_, res) => res.writeHead(400, { 'content-type': 'text/plain' }).end(`bad request\n${FAKE}`));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/orders`;
    const moduleRef = await Test.createTestingModule({
      imports: [EventEmitterModule.forRoot(), ScheduleModule.forRoot(), TaskerModule.forRoot(testOptions(schema, { logging: true }))],
      providers: [CallsUpstream],
    })
      .setLogger(logger)
      .compile();
    const app = await moduleRef.init();
    tasker = app.get(TaskerService);
    close = () => app.close();
  });
  afterAll(async () => {
    await close?.();
    await new Promise((r) => upstream?.close(r));
    await dropSchema(schema);
  });

  it('escapes control characters of an initiator, an actor and a quoted upstream error body', async () => {
    // The initiator is the actor of the creation.
    const task = await tasker.createTask({ name: 'calls_upstream', namespace: 'logs', initiator: `eve\r\n${FAKE}` });
    await waitFor('the task to fail', async () => (await tasker.getTask(task.id)).state === 'error');
    await tasker.cancelTask(task.id, { actor: `op\u2028${FAKE}` });
    const mine = await waitFor('the log lines of the task', () => {
      const lines = logger.lines.filter((l) => l.includes(`task=${task.id}`));
      return lines.some((l) => l.startsWith('tasker.task.cancelled')) && lines.some((l) => l.startsWith('tasker.step.failed')) ? lines : undefined;
    });
    // Each line is one line: the forged text stays inside the field it came in, escaped.
    for (const line of logger.lines) expect(line).not.toMatch(/[\n\r\u2028\u2029]/);
    expect(mine.find((l) => l.startsWith('tasker.task.created'))).toContain(`actor=eve\\r\\n${FAKE}`);
    expect(mine.find((l) => l.startsWith('tasker.step.failed'))).toContain(`bad request\\n${FAKE}`);
    expect(mine.find((l) => l.startsWith('tasker.task.cancelled'))).toContain(`actor=op\\u2028${FAKE}`);
  });
});
