// Internals: runs the migration runner directly and reads the catalogs of the schema it made, to compare them with the committed schema.sql.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { runTaskerMigrations } from '../../libs/tasker/src/persistence/migration.runner';
import { dumpSchema } from '../../scripts/schema-dump';
import { databaseUrl, dropSchema, uniqueSchema, withClient } from '../support/database';

const COMMITTED = join(__dirname, '..', '..', 'schema.sql');

/**
 * Undefined when the texts are equal; otherwise the first `limit` differing lines (`-` committed,
 * `+` migrated, each with its line number) and what to do about it.
 */
function dumpDiff(committed: string, migrated: string, limit = 40): string | undefined {
  if (committed === migrated) return undefined;
  const a = committed.split('\n');
  const b = migrated.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const lines = changedLines(a.slice(start, endA), b.slice(start, endB)).map(([sign, i, text]) =>
    `${sign} ${String(start + i + 1).padStart(5)} | ${text}`,
  );
  const shown = lines.length > limit ? `, the first ${limit} shown` : '';
  return [
    `schema.sql is not what the migrations produce (${lines.length} lines differ${shown}; - committed, + migrated):`,
    ...lines.slice(0, limit),
    'run `npm run db:dump` and commit schema.sql',
  ].join('\n');
}

/** A line diff through a longest common subsequence: an inserted line shows as one line, not as all that follow it. */
function changedLines(a: string[], b: string[]): ['-' | '+', number, string][] {
  if (a.length * b.length > 4_000_000) {
    // Too large a change for the table below; every line of both sides is still listed.
    return [...a.map((t, i): ['-', number, string] => ['-', i, t]), ...b.map((t, j): ['+', number, string] => ['+', j, t])];
  }
  const w = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * w); // lcs[i * w + j]: of a[i..] and b[j..]
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
    }
  }
  const out: ['-' | '+', number, string][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j === b.length || (i < a.length && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) out.push(['-', i, a[i++]]);
    else out.push(['+', j, b[j++]]);
  }
  return out;
}

describe('schema.sql, the engine in one file', () => {
  const schemas: string[] = [];
  let dataSource: DataSource;

  /** A fresh schema migrated the way `npm run db:dump` does it. */
  async function migrated(schema = uniqueSchema('dump')): Promise<string> {
    schemas.push(schema);
    await runTaskerMigrations(dataSource, schema);
    return schema;
  }
  const dump = (schema: string): Promise<string> => withClient((c) => dumpSchema(c, schema));

  beforeAll(async () => {
    dataSource = new DataSource({ type: 'postgres', url: databaseUrl() });
    await dataSource.initialize();
  });
  afterAll(async () => {
    for (const s of schemas) await dropSchema(s);
    await dataSource?.destroy();
  });

  it('is what the migrations produce', async () => {
    const diff = dumpDiff(readFileSync(COMMITTED, 'utf8'), await dump(await migrated()));
    if (diff) throw new Error(diff);
  });

  it('does not depend on the name of the schema migrated', async () => {
    // The longest name Tasker accepts: its NOTIFY channel, `tasker:` + name, is cut to 63 characters.
    const long = `${uniqueSchema('dump_long')}_`.padEnd(63, 'x');
    const short = await dump(await migrated());
    const longDump = await dump(await migrated(long));
    expect(dumpDiff(short, longDump)).toBeUndefined();
    expect(longDump).toContain("'tasker:tasker'");
  });

  it('fails, with the changed line, on a function whose body changed', async () => {
    const schema = await migrated();
    const before = await dump(schema);
    const [fn] = await withClient(async (c) =>
      (
        await c.query<{ def: string }>(
          `SELECT pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
            WHERE p.pronamespace = $1::regnamespace AND l.lanname = 'plpgsql' AND p.prokind = 'f'
            ORDER BY p.proname COLLATE "C" LIMIT 1`,
          [schema],
        )
      ).rows,
    );
    expect(fn.def).toMatch(/\$function\$\s*$/);
    await withClient((c) => c.query(fn.def.replace(/\$function\$\s*$/, () => '\n-- changed by schema-dump.internals.e2e-spec\n$function$')));
    const after = await dump(schema);

    const diff = dumpDiff(before, after);
    const line = after.split('\n').indexOf('-- changed by schema-dump.internals.e2e-spec') + 1;
    expect(line).toBeGreaterThan(0);
    expect(diff).toContain(`\n+ ${String(line).padStart(5)} | -- changed by schema-dump.internals.e2e-spec\n`);
    expect(diff).toContain('run `npm run db:dump` and commit schema.sql');
    expect(dumpDiff(readFileSync(COMMITTED, 'utf8'), after)).toBeDefined();
  });

  it('shows each differing line once, with its number, and no more than the limit', () => {
    expect(dumpDiff('a\nb\nc\n', 'a\nb\nc\n')).toBeUndefined();
    expect(dumpDiff('a\nb\nc\nd\n', 'a\nx\nb\nd\n')?.split('\n').slice(1, -1)).toEqual([
      '+     2 | x',
      '-     3 | c',
    ]);
    const many = dumpDiff('', Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n'));
    expect(many?.split('\n')).toHaveLength(42);
    expect(many).toContain('(101 lines differ, the first 40 shown');
  });
});
