import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { EMBEDDED_POSTGRES_FAILED, NO_TEST_DATABASE } from '../tasker.messages';

export interface EmbeddedPostgres {
  /** postgres://postgres:postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Where the data lives. Default: a new temporary directory, removed at stop. */
  dir?: string;
  /** Extra server settings. Default: durability off (fsync, synchronous_commit), 200 connections. */
  postgresFlags?: string[];
}

/**
 * Runs in a child Node process: embedded-postgres is ESM-only, which test runners that compile
 * to CommonJS (Jest) cannot load, and a child also stops the server when its parent dies (its
 * stdin closes), so a killed test run leaves no Postgres behind.
 */
const CHILD = `
const { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const [moduleUrl, dirArg, flagsJson] = process.argv.slice(1);
const freePort = () => new Promise((resolve, reject) => {
  const srv = createServer();
  srv.once('error', reject);
  srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
});
(async () => {
  const { default: EmbeddedPostgres } = await import(moduleUrl);
  const temporary = !dirArg;
  const dir = dirArg || mkdtempSync(join(tmpdir(), 'tasker-pg-'));
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777); // as root the server runs as a dedicated user that must reach its data
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir, port, user: 'postgres', password: 'postgres', persistent: !temporary,
    createPostgresUser: process.getuid && process.getuid() === 0,
    postgresFlags: JSON.parse(flagsJson), onLog: () => {}, onError: () => {},
  });
  let stopping;
  const stop = () => stopping || (stopping = pg.stop().catch(() => {}).then(() => {
    if (temporary) rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }));
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.on('SIGTERM', stop);
  process.stdin.resume();
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await pg.initialise();
    await pg.start();
  } catch (e) {
    if (temporary) rmSync(dir, { recursive: true, force: true });
    process.stdout.write(JSON.stringify({ error: String(e && e.message || e) }) + '\\n');
    process.exit(1);
  }
  process.stdout.write(JSON.stringify({ port }) + '\\n');
})();
`;

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package (a dev dependency of yours) on a
 * free port, in a child process. As root, the server runs as a dedicated user (Postgres refuses root).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  let moduleUrl: string;
  try {
    moduleUrl = pathToFileURL(require.resolve('embedded-postgres')).href;
  } catch {
    throw new Error(NO_TEST_DATABASE());
  }
  const flags = options.postgresFlags ?? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
  const child = spawn(process.execPath, ['-e', CHILD, moduleUrl, options.dir ?? '', JSON.stringify(flags)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const first = await new Promise<{ port?: number; error?: string }>((resolve) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (code) => resolve({ error: `the embedded Postgres process exited (code ${code})` }));
  });
  if (!first.port) throw new Error(EMBEDDED_POSTGRES_FAILED(String(first.error)));
  const port = first.port;
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: async () => {
      child.stdin!.end();
      await exited;
    },
  };
}
