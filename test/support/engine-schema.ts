import type { Provider } from '@nestjs/common';
import { Client } from 'pg';
import { databaseUrl, dropSchema, uniqueSchema } from './database';
import { startApp, TestApp } from './tasker-app';

/** A schema of its own, an app on it that only registers `handlers` (no worker), and a client that calls the engine's SQL itself. */
export interface EngineSchema {
  schema: string;
  /** The schema, quoted for SQL. */
  s: string;
  api: TestApp;
  client: Client;
}

/**
 * For internals specs that call the engine's SQL functions directly: registers the suite's
 * beforeAll (start the app with its worker off, run `seed`, connect the client) and afterAll (close
 * both, drop the schema). `api` and `client` are set once beforeAll has run.
 */
export function engineSchema(prefix: string, handlers: Provider[], seed?: (api: TestApp) => Promise<unknown>): EngineSchema {
  const schema = uniqueSchema(prefix);
  const e = { schema, s: `"${schema}"` } as EngineSchema;
  beforeAll(async () => {
    e.api = await startApp(schema, handlers, { worker: { enabled: false } });
    if (seed) await seed(e.api);
    e.client = new Client({ connectionString: databaseUrl() });
    await e.client.connect();
  });
  afterAll(async () => {
    await e.client?.end();
    await e.api?.close();
    await dropSchema(schema);
  });
  return e;
}
