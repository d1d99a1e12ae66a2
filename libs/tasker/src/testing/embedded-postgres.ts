import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { NO_TEST_DATABASE } from '../tasker.messages';
import { EmbeddedPostgresStartError, EmbeddedPostgresUnreachableError, EmbeddedPostgresVersionError } from './embedded-postgres.errors';
import { dirsOthersCannotEnter, embeddedPostgresVersionSupported, platformPackage } from './embedded-postgres.preflight';

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
const REPLY = '@@tasker-embedded-postgres ';
const CHILD = `
const REPLY = ${JSON.stringify(REPLY)};
const { chmodSync, existsSync, mkdirSync, rmSync } = require('node:fs');
const { createServer } = require('node:net');
const { join } = require('node:path');
const [moduleUrl, dirArg, flagsJson, temporaryArg] = process.argv.slice(1);
// embedded-postgres does not listen for its children's 'error' events (a spawn EACCES, say): report
// whatever escapes instead of dying with a stack trace.
const fail = (e) => { process.stdout.write(REPLY + JSON.stringify({ error: String(e && e.message || e) }) + '\\n'); process.exit(1); };
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
const freePort = () => new Promise((resolve, reject) => {
  const srv = createServer();
  srv.once('error', reject);
  srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
});
(async () => {
  const { default: EmbeddedPostgres } = await import(moduleUrl);
  const temporary = temporaryArg === '1';
  const dir = dirArg;
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
    process.stdout.write(REPLY + JSON.stringify({ error: String(e && e.message || e) }) + '\\n');
    process.exit(1);
  }
  process.stdout.write(REPLY + JSON.stringify({ port }) + '\\n');
})();
`;

/** The installed embedded-postgres: the app's copy (resolved from the working directory) first. */
function findEmbeddedPostgres(): { moduleUrl: string; root: string; version: string } {
  let entry: string;
  try {
    entry = require.resolve('embedded-postgres', { paths: [process.cwd(), __dirname] });
  } catch {
    throw new Error(NO_TEST_DATABASE());
  }
  let root = dirname(entry);
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return { moduleUrl: pathToFileURL(entry).href, root, version };
}

/** As root the server runs as another user, which must reach the binaries and the data. */
function checkReachable(packageRoot: string, dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  let binaries: string | undefined;
  try {
    binaries = join(dirname(require.resolve(platformPackage(), { paths: [packageRoot] })), '..', 'native', 'bin');
  } catch {
    // no platform package: the start fails and says why
  }
  // The data folder itself is opened up by the child; its parents must already be open.
  for (const path of [binaries, dirname(dataDir)]) {
    if (!path) continue;
    const blocked = dirsOthersCannotEnter(path);
    if (blocked.length > 0) throw new EmbeddedPostgresUnreachableError(path, blocked);
  }
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package (a dev dependency of yours) on a
 * free port, in a child process. As root, the server runs as a dedicated user (Postgres refuses
 * root), which must be able to enter the folders that hold the project and the data.
 * @throws EmbeddedPostgresVersionError, EmbeddedPostgresUnreachableError, EmbeddedPostgresStartError
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const { moduleUrl, root, version } = findEmbeddedPostgres();
  if (!embeddedPostgresVersionSupported(version)) throw new EmbeddedPostgresVersionError(version);
  const temporary = !options.dir;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tasker-pg-'));
  try {
    checkReachable(root, dir);
  } catch (e) {
    if (temporary) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const flags = options.postgresFlags ?? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'];
  const child = spawn(process.execPath, ['-e', CHILD, moduleUrl, dir, JSON.stringify(flags), temporary ? '1' : '0'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const first = await new Promise<{ port?: number; error?: string }>((resolve) => {
    // Some embedded-postgres versions print initdb's output on stdout: only the reply counts.
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (l) => {
      if (l.startsWith(REPLY)) resolve(JSON.parse(l.slice(REPLY.length)) as { port?: number; error?: string });
    });
    child.once('error', (e) => resolve({ error: e.message }));
    child.once('exit', (code) => resolve({ error: `the embedded Postgres process exited (code ${code})` }));
  });
  if (!first.port) {
    if (temporary) rmSync(dir, { recursive: true, force: true });
    throw new EmbeddedPostgresStartError(version, String(first.error));
  }
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
