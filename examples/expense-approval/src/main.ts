// Run: DATABASE_URL=postgres://... node -r @swc-node/register examples/expense-approval/src/main.ts
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { TaskerService } from 'nestjs-tasker';
import { AppModule } from './app.module';
import { ExpenseReports } from './expenses/expense-reports.service';

async function main() {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['log', 'warn', 'error'] });
  try {
    const reports = app.get(ExpenseReports);
    const tasker = app.get(TaskerService);
    const id = Date.now();
    const small = await reports.submit({
      reportId: `R-${id}-1`,
      employeeId: 'emp-ada',
      managerId: 'mgr-mia',
      receipts: [{ id: 'rc-1', vendor: 'Café Central', amountCents: 1_850 }],
    });
    const large = await reports.submit({
      reportId: `R-${id}-2`,
      employeeId: 'emp-bob',
      managerId: 'mgr-mia',
      receipts: [
        { id: 'rc-2', vendor: 'Rail Europe', amountCents: 32_000 },
        { id: 'rc-3', vendor: 'Hotel Lumière', amountCents: 41_000 },
      ],
    });
    // The manager approves at once: the signal is kept until manager_approval waits for it.
    await reports.approve(large.id, 'mgr-mia', 'trip to the Lyon office');
    for (const t of [small, large]) {
      const done = await tasker.waitForTask(t.id, { timeoutMs: 60_000 });
      console.log(JSON.stringify({ task: done.id, state: done.state, steps: done.steps.map((s) => [s.name, s.state]), notify: done.steps.find((s) => s.name === 'notify')?.results }));
    }
  } finally {
    await app.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
