import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProviderAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface RecordedCharge {
  idempotencyKey: string | undefined;
  body: { orderId: string; amountCents: number };
}

/**
 * A payment provider on a local port, for running the example without a real one and for its
 * tests: `POST /charges` answers from `script` (first in, first out), else approves the charge.
 */
export class FakePaymentProvider {
  readonly requests: RecordedCharge[] = [];
  readonly script: ProviderAnswer[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void readJson(req).then((body) => {
        if (req.method !== 'POST' || req.url !== '/charges') {
          res.writeHead(404).end();
          return;
        }
        const charge = body as RecordedCharge['body'];
        this.requests.push({ idempotencyKey: req.headers['idempotency-key'] as string | undefined, body: charge });
        const answer = this.script.shift() ?? {
          status: 201,
          body: { chargeId: `ch_${charge.orderId}`, status: 'succeeded', amountCents: charge.amountCents },
        };
        const json = answer.body === undefined ? '' : JSON.stringify(answer.body);
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(json);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Charges recorded for one order. */
  chargesFor(orderId: string): RecordedCharge[] {
    return this.requests.filter((r) => r.body.orderId === orderId);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : undefined;
}
