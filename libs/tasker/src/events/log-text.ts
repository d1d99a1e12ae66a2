/**
 * Log lines carry text from outside (initiators, actors, reasons, upstream error bodies). A control
 * character in it would let that text end the line and print a line of its own; escaped, it stays
 * visibly part of the field it came in.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every control character (C0, DEL, C1, line and paragraph separators) written as an escape. */
export function escapeLogText(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** An error for a log line: its message escaped, then its stack frames (which are code locations, one per line). */
export function errorForLog(e: unknown): string {
  if (!(e instanceof Error)) return escapeLogText(String(e));
  const head = escapeLogText(`${e.name}: ${e.message}`);
  const frames = (e.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  return [head, ...frames].join('\n');
}
