/**
 * Notices when the event loop was blocked: a timer that should fire every `intervalMs` fires late
 * by the time the loop was busy. Nothing else in the process runs meanwhile (lease renewals
 * included), so a stall of a good part of the lease can lapse the leases of every step of the
 * worker. Free of Nest: the worker says what to do about a stall.
 */
export class EventLoopMonitor {
  private timer?: NodeJS.Timeout;
  private last = 0;

  /** `onStall(ms, since)`: the loop was blocked about `ms` ms, some time after `since` (performance.now()). */
  constructor(
    private readonly intervalMs: number,
    private readonly thresholdMs: number,
    private readonly onStall: (stalledMs: number, since: number) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.last = performance.now();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    // Never what keeps a process alive.
    this.timer.unref();
  }

  /** When the timer last fired (performance.now()): what ended before it cannot be behind the next stall. */
  get lastTick(): number {
    return this.last;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = performance.now();
    const since = this.last;
    const late = now - since - this.intervalMs;
    this.last = now;
    if (late >= this.thresholdMs) this.onStall(Math.round(late), since);
  }
}

/** How long a stall must be to be reported: a fifth of the lease (renewals run every third), at least 200 ms. */
export function stallThresholdMs(leaseMs: number): number {
  return Math.max(200, Math.floor(leaseMs / 5));
}
