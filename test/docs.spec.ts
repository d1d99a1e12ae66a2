/**
 * Every TypeScript sample in README.md and docs/*.md is a region of a real file that the typecheck
 * compiles (and, for most, a test runs): a ```ts block without `<!-- sample: file#region -->` before
 * it, or whose text differs from that region, fails here. Other blocks with a marker are checked too.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeBlocks, regionText, sampleText } from './support/doc-samples';

const root = join(__dirname, '..');
const docs = [
  'README.md',
  'libs/tasker/README.md', // the package's README
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  ...readdirSync(join(root, 'examples')).map((e) => `examples/${e}/README.md`),
];
const blocks = docs.flatMap((doc) => codeBlocks(doc, readFileSync(join(root, doc), 'utf8')));
const where = (b: { doc: string; line: number }) => `${b.doc}:${b.line}`;

describe('documentation samples', () => {
  it('covers the README and every guide', () => {
    for (const guide of ['getting-started', 'workflows', 'dynamic-workflows', 'flow-control', 'retries-and-errors', 'events', 'testing', 'operations', 'scaling', 'versioning']) {
      expect(docs).toContain(`docs/${guide}.md`);
    }
  });

  it('every TypeScript block names the file region it comes from', () => {
    const unmarked = blocks.filter((b) => ['ts', 'typescript'].includes(b.lang) && !b.sample).map(where);
    expect(unmarked).toEqual([]);
  });

  const marked = blocks.filter((b) => b.sample);
  it.each(marked.map((b) => [`${where(b)} = ${b.sample}`, b] as const))('%s', (_, b) => {
    const file = b.sample!.split('#')[0];
    expect(existsSync(join(root, file))).toBe(true);
    expect(b.text).toBe(sampleText(root, b.sample!));
  });

  it('links between pages point at files and headings that exist', () => {
    const broken: string[] = [];
    for (const doc of docs) {
      const text = readFileSync(join(root, doc), 'utf8');
      for (const m of text.matchAll(/\]\(((?!https?:|mailto:)[^)#\s]*)(?:#([^)\s]*))?\)/g)) {
        const [, path, anchor] = m;
        const target = path ? join(root, doc, '..', path) : join(root, doc);
        if (!existsSync(target)) broken.push(`${doc} → ${path}`);
        else if (anchor && target.endsWith('.md') && !headingSlugs(readFileSync(target, 'utf8')).includes(anchor)) {
          broken.push(`${doc} → ${path}#${anchor}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

/** GitHub's anchors for the headings of a markdown text. */
function headingSlugs(markdown: string): string[] {
  const slugs: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const f = /^\s*(`{3,}|~{3,})/.exec(line);
    if (f) fence = fence === undefined ? f[1] : line.trim().startsWith(fence) ? undefined : fence;
    const h = fence === undefined && !f ? /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line) : null;
    if (h) slugs.push(h[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'));
  }
  return slugs;
}

describe('the sample checker itself', () => {
  const file = ['const a = 1;', '  // #region outer', '  function f() {', '    // #region inner', '    return 2;', '    // #endregion', '  }', '  // #endregion', ''].join('\n');

  it('reads a region without its common indentation or inner markers, and the whole file without markers', () => {
    expect(regionText(file, 'outer')).toBe('function f() {\n  return 2;\n}');
    expect(regionText(file, 'inner')).toBe('return 2;');
    expect(regionText(file)).toBe('const a = 1;\n  function f() {\n    return 2;\n  }');
    expect(() => regionText(file, 'missing')).toThrow('no "// #region missing"');
  });

  it('makes the anchors GitHub makes', () => {
    expect(headingSlugs('# A\n## Calling HTTP APIs: `httpStep`\n### 8. Configure Jest\n```bash\n# not a heading\n```\n')).toEqual([
      'a',
      'calling-http-apis-httpstep',
      '8-configure-jest',
    ]);
  });

  it('finds blocks, their language and marker, and tells a changed block from its region', () => {
    const md = ['Text', '<!-- sample: x.ts#outer -->', '', '```ts', 'function f() {', '  return 3;', '}', '```', '```bash', 'npm test', '```'].join('\n');
    const [ts, bash] = codeBlocks('x.md', md);
    expect(ts).toMatchObject({ line: 4, lang: 'ts', sample: 'x.ts#outer', text: 'function f() {\n  return 3;\n}' });
    expect(bash).toMatchObject({ lang: 'bash', text: 'npm test' });
    expect(bash.sample).toBeUndefined();
    expect(ts.text).not.toBe(regionText(file, 'outer'));
  });
});
