// Run: DATABASE_URL=postgres://... node -r @swc-node/register examples/data-pipeline/src/main.ts
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { TaskerService } from 'nestjs-tasker';
import { AppModule } from './app.module';

async function main() {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['log', 'warn', 'error'] });
  try {
    const tasker = app.get(TaskerService);
    const task = await tasker.createTask({
      name: 'customer_analytics',
      namespace: 'data',
      context: { day: new Date().toISOString().slice(0, 10), recipients: ['ops@example.com'] },
    });
    const done = await tasker.waitForTask(task.id, { timeoutMs: 60_000 });
    const insights = done.steps.find((s) => s.name === 'generate_insights')?.results;
    console.log(JSON.stringify({ task: done.id, state: done.state, insights }));
  } finally {
    await app.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
