import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TaskerService } from 'nestjs-tasker';
import { join } from 'node:path';
import { AppModule } from './app.module';
import { EmbeddedDatabase, startEmbeddedDatabase } from './embedded-database';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Main');
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedDatabase(join(process.cwd(), '.tmp', 'demo-postgres'));
    databaseUrl = embedded.url;
    logger.log(`No DATABASE_URL: started an embedded PostgreSQL (${databaseUrl.replace(/:[^:@/]+@/, ':***@')})`);
  }
  const app = await NestFactory.create(AppModule.forRoot(databaseUrl));
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
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  logger.log(`Tasker admin service listening on port ${port}`);

  if (process.env.TASKER_DEMO !== 'false') {
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
