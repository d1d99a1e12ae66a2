#!/usr/bin/env node
// Runs a command against a real PostgreSQL: the one in DATABASE_URL when it is set, otherwise
// a throwaway embedded server on a free port (the testing kit's), removed when the command ends
// (also on Ctrl-C).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: with-postgres.mjs <command> [args...]');
  process.exit(2);
}

function run(env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env, shell: process.platform === 'win32' });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', (e) => {
      console.error(`with-postgres: ${command}: ${e.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let server;
let code;
try {
  if (process.env.DATABASE_URL) {
    code = await run(process.env);
  } else {
    // The kit's own start: its version and permission checks, and no unhandled child errors.
    const require = createRequire(import.meta.url);
    require('@swc-node/register');
    const { startEmbeddedPostgres } = require('../libs/tasker/src/testing/embedded-postgres.ts');
    server = await startEmbeddedPostgres({
      postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    });
    console.log(`with-postgres: embedded PostgreSQL on port ${server.port}`);
    code = await run({ ...process.env, DATABASE_URL: server.url });
  }
} catch (e) {
  console.error(`with-postgres: ${e instanceof Error ? e.message : e}`);
  code = 1;
} finally {
  if (server) await server.stop().catch(() => {});
}
process.exit(code);
