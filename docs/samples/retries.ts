import { BadRequestException, Body, Controller, Injectable, Module, Post } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import {
  DependsOn,
  httpStep,
  PermanentError,
  RetryableError,
  Step,
  TaskerModule,
  TaskerService,
  TaskHandler,
  TaskValidationError,
} from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';
import { Matches } from 'class-validator';

export type BookingAnswer =
  | { kind: 'booked'; trackingId: string }
  | { kind: 'invalid_address'; detail: string }
  | { kind: 'rate_limited'; waitMs: number };

/** The carrier's client (a fake here; tests script its answers). */
@Injectable()
export class CarrierClient {
  readonly script: (BookingAnswer | Error)[] = [];
  async book(parcelId: string): Promise<BookingAnswer> {
    const next = this.script.shift();
    if (next instanceof Error) throw next;
    return next ?? { kind: 'booked', trackingId: `TRK-${parcelId}` };
  }
}

@Injectable()
export class LabelPrinter {
  hangOnce = false;
  async print(trackingId: string, signal: AbortSignal): Promise<string> {
    if (this.hangOnce) {
      this.hangOnce = false;
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))); // stuck until aborted
    }
    return `label-${trackingId}.pdf`;
  }
}

@Injectable()
export class RatesConfig {
  url = process.env.RATES_API_URL ?? 'http://127.0.0.1:4020';
}

export class ParcelContext {
  @Matches(/^P\d+$/)
  parcelId!: string;
}

// #region step-errors
@TaskHandler({ name: 'ship_parcel', namespace: 'shipping', version: '1.0.0', context: ParcelContext })
export class ShipParcelWorkflow {
  constructor(
    private readonly carrier: CarrierClient,
    private readonly printer: LabelPrinter,
    private readonly rates: RatesConfig,
  ) {}

  @Step({ name: 'book_carrier', retryLimit: 4, backoff: { baseMs: 2_000, maxMs: 30_000, jitter: 0.2 } })
  async bookCarrier(ctx: StepContext<{ parcelId: string }>) {
    const answer = await this.carrier.book(ctx.task.context.parcelId); // a network error thrown here: retried with backoff
    switch (answer.kind) {
      case 'booked':
        return { trackingId: answer.trackingId };
      case 'invalid_address': // retrying cannot help: fail the step now, no more attempts
        throw new PermanentError(`Address rejected: ${answer.detail}`, { code: 'BAD_ADDRESS' });
      case 'rate_limited': // retry after exactly the delay the carrier asked for
        throw new RetryableError('Carrier rate limit', { retryAfterMs: answer.waitMs, code: 'RATE_LIMITED' });
    }
  }

  @Step({ name: 'print_label', timeoutMs: 500 }) // an attempt taking longer fails with StepTimeoutError and is retried
  @DependsOn('book_carrier')
  async printLabel(ctx: StepContext<{ parcelId: string }>) {
    const { trackingId } = ctx.results['book_carrier'] as { trackingId: string };
    return { label: await this.printer.print(trackingId, ctx.signal) };
  }

  // #region http
  @Step({ name: 'fetch_rates', retryLimit: 5, timeoutMs: 15_000 })
  async fetchRates(ctx: StepContext<{ parcelId: string }>) {
    const res = await httpStep<{ cents: number }>(ctx, `${this.rates.url}/rates/${ctx.task.context.parcelId}`, {
      headers: { authorization: 'Bearer <token>' },
      maxRetryAfterMs: 60_000, // a server asking for a longer wait is retried after 60 s
    });
    return { cents: res.body.cents, status: res.status };
  }
  // #endregion
}
// #endregion

// #region validation-errors
@Controller('parcels')
export class ParcelsController {
  constructor(private readonly tasker: TaskerService) {}

  @Post()
  async ship(@Body() body: { parcelId: string }) {
    try {
      const task = await this.tasker.createTask({ name: 'ship_parcel', namespace: 'shipping', context: { parcelId: body.parcelId } });
      return { taskId: task.id };
    } catch (e) {
      // TaskerError subclasses carry a stable `code`; TaskValidationError also lists each bad field.
      if (e instanceof TaskValidationError) throw new BadRequestException({ message: e.message, fields: e.errors });
      throw e;
    }
  }
}
// #endregion

@Module({
  controllers: [ParcelsController],
  providers: [CarrierClient, LabelPrinter, RatesConfig, ShipParcelWorkflow],
})
export class ShippingModule {}

// #region recover
@Injectable()
export class ShippingDesk {
  constructor(private readonly tasker: TaskerService) {}

  /** The address was corrected: run the failed steps again (completed steps never run again). */
  retry(taskId: string, operator: string) {
    return this.tasker.retryTask(taskId, { actor: operator, reason: 'address corrected' });
  }

  /** The parcel was booked by phone: record the step's results by hand; its dependents go on. */
  bookedByPhone(taskId: string, trackingId: string, operator: string) {
    return this.tasker.resolveStep(taskId, 'book_carrier', { results: { trackingId }, actor: operator, reason: 'booked by phone' });
  }

  /** The customer cancelled: no further step starts; a running one sees its signal aborted. */
  cancel(taskId: string, operator: string) {
    return this.tasker.cancelTask(taskId, { actor: operator, reason: 'customer cancelled' });
  }
}
// #endregion

// #region defaults
@Module({
  imports: [
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TaskerModule.forRoot({
      databaseUrl: process.env.DATABASE_URL,
      // For every step that does not set its own: 5 attempts in total; waits of about
      // 0.5 s, 1 s, 2 s, 4 s (each up to 20% shorter at random), never more than a minute.
      defaults: { retryLimit: 5, backoff: { baseMs: 500, maxMs: 60_000, jitter: 0.2 } },
    }),
    ShippingModule,
  ],
  providers: [ShippingDesk],
})
export class AppModule {}
// #endregion
