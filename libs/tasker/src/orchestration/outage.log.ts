import { OUTAGE_ENDED, OUTAGE_STARTED } from '../tasker.messages';

/**
 * The log of a background job that runs every few hundred milliseconds and fails while the
 * database is away: one line when it starts failing, one with how many times when it works again,
 * instead of a line per attempt. Free of Nest: the logger is passed in.
 */
export class OutageLog {
  private failures = 0;
  private since = 0;

  constructor(
    private readonly logger: { error(message: string): void; warn(message: string): void },
    private readonly what: string,
  ) {}

  failed(e: unknown): void {
    if (this.failures++ > 0) return;
    this.since = Date.now();
    this.logger.error(OUTAGE_STARTED(this.what, (e as Error)?.message ?? String(e)));
  }

  succeeded(): void {
    if (this.failures === 0) return;
    this.logger.warn(OUTAGE_ENDED(this.what, this.failures, Date.now() - this.since));
    this.failures = 0;
  }
}
