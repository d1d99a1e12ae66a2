/** Parses an HTTP Retry-After header (delta-seconds or an HTTP date) into milliseconds. Pure. */
export function parseRetryAfter(value: string | null | undefined, now: number, capMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  let ms: number | undefined;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else if (/^[A-Za-z]{3},/.test(v)) {
    // An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"); anything else (negative numbers...) is ignored.
    const at = Date.parse(v);
    if (!Number.isNaN(at)) ms = Math.max(0, at - now);
  }
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  return Math.min(ms, capMs);
}
