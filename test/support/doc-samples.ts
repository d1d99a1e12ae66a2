/**
 * Code blocks in the docs point at real files (`<!-- sample: path#region -->` on the line before
 * the fence); this reads the blocks and the regions so a test can check they are the same text.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CodeBlock {
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  text: string;
  /** `path#region` from the marker before the fence, if any. */
  sample?: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;
const MARKER = /^\s*<!--\s*sample:\s*(\S+)\s*-->\s*$/;

/** The fenced code blocks of a markdown text, with the sample marker on the closest non-blank line before each. */
export function codeBlocks(doc: string, markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const out: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    let j = i + 1;
    while (j < lines.length && !(lines[j].trim().startsWith(fence) && lines[j].trim().replace(/[`~]/g, '') === '')) j++;
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === '') k--;
    const marker = k >= 0 ? MARKER.exec(lines[k]) : null;
    const body = lines.slice(i + 1, j).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l));
    out.push({ doc, line: i + 1, lang: lang.toLowerCase(), text: normalize(body.join('\n')), ...(marker ? { sample: marker[1] } : {}) });
    i = j;
  }
  return out;
}

/**
 * The text of `// #region name` … `// #endregion` in a file (regions may nest; the markers of inner
 * regions are left out), or the whole file without region markers when no region is named.
 */
export function regionText(fileText: string, region?: string): string {
  const lines = fileText.split('\n');
  const isMarker = (l: string) => /^\s*\/\/\s*#(end)?region\b/.test(l);
  if (!region) return normalize(lines.filter((l) => !isMarker(l)).join('\n'));
  const start = lines.findIndex((l) => new RegExp(`^\\s*//\\s*#region\\s+${escape(region)}\\s*$`).test(l));
  if (start < 0) throw new Error(`no "// #region ${region}"`);
  if (lines.findIndex((l, i) => i > start && new RegExp(`^\\s*//\\s*#region\\s+${escape(region)}\\s*$`).test(l)) >= 0) {
    throw new Error(`"// #region ${region}" appears more than once`);
  }
  let depth = 0;
  const body: string[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    if (/^\s*\/\/\s*#region\b/.test(lines[i])) depth++;
    else if (/^\s*\/\/\s*#endregion\b/.test(lines[i])) {
      if (depth === 0) return normalize(dedent(body).join('\n'));
      depth--;
    } else body.push(lines[i]);
  }
  throw new Error(`"// #region ${region}" has no "// #endregion"`);
}

/** Reads the file a marker points at (relative to the repository root) and returns its region's text. */
export function sampleText(root: string, sample: string): string {
  const [path, region] = sample.split('#');
  return regionText(readFileSync(join(root, path), 'utf8'), region);
}

function dedent(lines: string[]): string[] {
  const widths = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length);
  const common = widths.length ? Math.min(...widths) : 0;
  return lines.map((l) => l.slice(Math.min(common, /^ */.exec(l)![0].length)));
}

/** Trailing spaces and leading/trailing blank lines do not count. */
function normalize(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/^\n+/, '')
    .replace(/\n+$/, '');
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
