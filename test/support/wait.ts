/**
 * Waits for a condition instead of sleeping a fixed time: polls `probe` until it returns a value
 * other than undefined/false (that value is returned), or fails with `what` after the deadline.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  const interval = opts.intervalMs ?? 20;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const cause = last ? ` (last error: ${(last as Error).message ?? String(last)})` : '';
      throw new Error(`Timed out waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A promise with its resolve exposed: a test opens it to let a blocked step go on. */
export class Latch<T = void> {
  readonly promise: Promise<T>;
  resolve!: (v: T) => void;
  opened = false;
  constructor() {
    this.promise = new Promise<T>((r) => {
      this.resolve = (v: T) => {
        this.opened = true;
        r(v);
      };
    });
  }
}
