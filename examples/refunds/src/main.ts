// Run: DATABASE_URL=postgres://... node -r @swc-node/register examples/refunds/src/main.ts
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { TaskerService } from 'nestjs-tasker';
import { AppModule } from './app.module';

async function main() {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['log', 'warn', 'error'] });
  try {
    const tasker = app.get(TaskerService);
    const context = { refundId: `r-${Date.now()}`, amountCents: 1_999 };
    const created = await Promise.all([
      tasker.createTask({ name: 'refund', namespace: 'payments', context }), // no version: the highest, 2.0.0
      tasker.createTask({ name: 'refund', namespace: 'payments', version: '1.0.0', context }),
      tasker.createTask({ name: 'refund', namespace: 'marketplace', context }),
    ]);
    for (const t of created) {
      const done = await tasker.waitForTask(t.id, { timeoutMs: 60_000 });
      console.log(JSON.stringify({ task: done.id, type: `${done.namespace}/${done.name}@${done.version}`, state: done.state, steps: done.steps.map((s) => s.name) }));
    }
  } finally {
    await app.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
