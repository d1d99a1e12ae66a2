// Run: DATABASE_URL=postgres://... node -r @swc-node/register examples/order-processing/src/main.ts
// Without PAYMENT_API_URL a fake payment provider is started on a local port.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { TaskerService } from 'nestjs-tasker';
import { AppModule } from './app.module';
import { FakePaymentProvider } from './fake-payment-provider';
import { OrdersService } from './orders/orders.service';

async function main() {
  const provider = process.env.PAYMENT_API_URL ? undefined : await new FakePaymentProvider().start();
  if (provider) process.env.PAYMENT_API_URL = provider.url;
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['log', 'warn', 'error'] });
  try {
    const orderId = `A-${Date.now()}`;
    const task = await app.get(OrdersService).placeOrder({
      orderId,
      amountCents: 4_200,
      email: 'ada@example.com',
      items: [{ sku: 'book', quantity: 2 }],
    });
    const done = await app.get(TaskerService).waitForTask(task.id, { timeoutMs: 60_000 });
    console.log(JSON.stringify({ task: done.id, state: done.state, steps: done.steps.map((s) => [s.name, s.state, s.results]) }));
  } finally {
    await app.close();
    await provider?.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
