import { errorForLog, escapeLogText } from './log-text';

describe('escapeLogText', () => {
  it('writes newlines, returns, tabs and every other control character as escapes', () => {
    expect(escapeLogText('alice\n[Nest] 1 - LOG [Tasker] tasker.task.completed')).toBe('alice\\n[Nest] 1 - LOG [Tasker] tasker.task.completed');
    expect(escapeLogText('a\r\nb\tc\u0000d\u001b[31me\u007ff\u0085g\u2028h\u2029')).toBe('a\\r\\nb\\tc\\u0000d\\u001b[31me\\u007ff\\u0085g\\u2028h\\u2029');
  });
  it('keeps printable text, non-ASCII letters included, as it is', () => {
    const text = 'Zoë — café 东京 "quoted" \\n (already a backslash)';
    expect(escapeLogText(text)).toBe(text);
  });
});

describe('errorForLog', () => {
  it("escapes the message but keeps the stack's frames on their lines", () => {
    const e = new Error('upstream said:\nERROR [Tasker] fake line');
    const out = errorForLog(e).split('\n');
    expect(out[0]).toBe('Error: upstream said:\\nERROR [Tasker] fake line');
    expect(out.length).toBeGreaterThan(1);
    expect(out.slice(1).every((l) => /^\s+at /.test(l))).toBe(true);
    expect(errorForLog('plain\nthrown string')).toBe('plain\\nthrown string');
  });
});
