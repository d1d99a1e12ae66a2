import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';

/**
 * One server per test process: DATABASE_URL when set, else an embedded Postgres started on first
 * use and stopped when the last testing app using it closes. Each app gets its own schema.
 */
interface SharedServer {
  server?: EmbeddedPostgres;
  url: Promise<string>;
  users: number;
}
let shared: SharedServer | undefined;

export async function acquireDatabase(explicitUrl?: string): Promise<{ url: string; release(): Promise<void> }> {
  const url = explicitUrl ?? process.env.DATABASE_URL;
  if (url) return { url, release: async () => undefined };
  if (!shared) {
    const state: SharedServer = { users: 0, url: Promise.resolve('') };
    state.url = startEmbeddedPostgres().then((server) => {
      state.server = server;
      return server.url;
    });
    shared = state;
  }
  const state = shared;
  state.users++;
  try {
    const resolved = await state.url;
    return {
      url: resolved,
      release: async () => {
        if (--state.users === 0 && shared === state) {
          shared = undefined;
          await state.server?.stop();
        }
      },
    };
  } catch (e) {
    state.users--;
    if (shared === state) shared = undefined;
    throw e;
  }
}

export function uniqueTestSchema(): string {
  return `tasker_test_${randomBytes(5).toString('hex')}`;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
  } finally {
    await c.end();
  }
}
