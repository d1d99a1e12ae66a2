import { Injectable, Module } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { DependsOn, PermanentError, Step, TaskerEvents, TaskerService, TaskHandler } from 'nestjs-tasker';
import type { StepContext, StepEventPayload, TaskerEventPayload } from 'nestjs-tasker';

// ---------------------------------------------------------------------------------------------
// Conditions and joins

export interface Quote {
  express: boolean;
  carrier: string;
}

// #region conditions
@TaskHandler({ name: 'ship_order', namespace: 'shipping' })
export class ShipOrderWorkflow {
  @Step()
  quote(ctx: StepContext<{ orderId: string; express: boolean }>): Quote {
    return { express: ctx.task.context.express, carrier: ctx.task.context.express ? 'fastpost' : 'slowpost' };
  }

  // runIf false: the step is skipped (no attempt used), its dependents still run.
  @Step({ runIf: (ctx) => (ctx.results['quote'] as Quote).express })
  @DependsOn('quote')
  book_courier(ctx: StepContext<{ orderId: string }>) {
    return { booking: `courier-${ctx.task.context.orderId}` };
  }

  @Step({ runIf: (ctx) => !(ctx.results['quote'] as Quote).express })
  @DependsOn('quote')
  book_post(ctx: StepContext<{ orderId: string }>) {
    return { booking: `post-${ctx.task.context.orderId}` };
  }

  // A join: runs once both parents are finished, because one of them ran.
  @Step()
  @DependsOn('book_courier', 'book_post')
  print_label(ctx: StepContext) {
    // A skipped parent has no entry in ctx.results.
    const { booking } = (ctx.results['book_courier'] ?? ctx.results['book_post']) as { booking: string };
    return { label: `${booking}.pdf`, parents: Object.keys(ctx.results) };
  }

  // Its only parent is skipped for standard orders: then it is skipped too.
  @Step()
  @DependsOn('book_courier')
  track_courier() {
    return { tracking: 'live' };
  }
}
// #endregion

// ---------------------------------------------------------------------------------------------
// Map steps

/** Stands in for an image service. `broken` photos fail for good until they are removed from it. */
@Injectable()
export class ImageService {
  readonly broken = new Set<string>();
  readonly calls: string[] = [];
  /** Tests: while set, thumbnails wait for it. */
  hold?: Promise<void>;

  async list(albumId: string): Promise<string[]> {
    return ['a', 'b', 'c', 'd', 'e', 'f'].map((p) => `${albumId}/${p}.jpg`);
  }

  async thumbnail(photo: string): Promise<string> {
    this.calls.push(photo);
    await this.hold;
    if (this.broken.has(photo)) throw new PermanentError(`${photo} is not a JPEG`, { code: 'CORRUPT_IMAGE' });
    return photo.replace('.jpg', '.thumb.jpg');
  }
}

// #region map
@TaskHandler({ name: 'publish_album', namespace: 'media' })
export class PublishAlbumWorkflow {
  constructor(private readonly images: ImageService) {}

  @Step()
  list_photos(ctx: StepContext<{ albumId: string }>) {
    return this.images.list(ctx.task.context.albumId); // e.g. 6 photo paths
  }

  // One instance per photo: resize[0], resize[1], ... at most 2 of them at once for one task.
  @Step({ map: (ctx) => ctx.results['list_photos'] as string[], maxParallel: 2, retryLimit: 4 })
  @DependsOn('list_photos')
  resize(ctx: StepContext<{ albumId: string }, string>) {
    return this.images.thumbnail(ctx.item!); // ctx.item: this instance's photo; ctx.index: its position
  }

  @Step()
  @DependsOn('resize')
  publish(ctx: StepContext<{ albumId: string }>) {
    const thumbnails = ctx.results['resize'] as string[]; // every instance's results, in item order
    return { albumId: ctx.task.context.albumId, cover: thumbnails[0] ?? null, count: thumbnails.length };
  }
}
// #endregion

// ---------------------------------------------------------------------------------------------
// Signals

/** Stands in for an e-signature provider: it keeps the envelopes it was asked to send. */
@Injectable()
export class ESignService {
  readonly sent: { contractId: string; signer: string; reference: string }[] = [];
  /** Tests: while set, sending waits for it. */
  hold?: Promise<void>;

  async send(contractId: string, signer: string, reference: string) {
    await this.hold;
    this.sent.push({ contractId, signer, reference });
    return { envelopeId: `env-${contractId}` };
  }
}

export interface Signature {
  signedAt: string;
}

// #region signal
@TaskHandler({ name: 'contract_signing', namespace: 'legal' })
export class ContractSigningWorkflow {
  constructor(private readonly esign: ESignService) {}

  @Step()
  send_contract(ctx: StepContext<{ contractId: string; signer: string }>) {
    // The task id travels with the envelope: the provider's webhook gives it back.
    return this.esign.send(ctx.task.context.contractId, ctx.task.context.signer, ctx.task.id);
  }

  @Step()
  @DependsOn('send_contract')
  await_signature(ctx: StepContext) {
    // The step waits (no worker held) until the signal "signed" arrives; its payload is the results.
    return ctx.waitForSignal('signed', { timeoutMs: 14 * 86_400_000 });
  }

  @Step()
  @DependsOn('await_signature')
  archive(ctx: StepContext<{ contractId: string }>) {
    const { signedAt } = ctx.results['await_signature'] as Signature;
    return { archived: `${ctx.task.context.contractId} signed ${signedAt}` };
  }
}
// #endregion

// #region signal-send
@Injectable()
export class ESignWebhook {
  constructor(private readonly tasker: TaskerService) {}

  /** The provider calls this when the contract is signed; `reference` is the task id it was given. */
  onSigned(event: { reference: string; signer: string; signedAt: string }) {
    const signature: Signature = { signedAt: event.signedAt };
    return this.tasker.signal(event.reference, 'signed', signature, { actor: `signer:${event.signer}`, reason: 'e-signature webhook' });
  }
}
// #endregion

// ---------------------------------------------------------------------------------------------
// Child tasks

/** Stands in for a payment provider. `declined` orders fail until they are removed from it. */
@Injectable()
export class CardGateway {
  readonly declined = new Set<string>();

  async capture(orderId: string, amountCents: number) {
    if (this.declined.has(orderId)) throw new PermanentError(`card declined for ${orderId}`, { code: 'CARD_DECLINED' });
    return { captureId: `cap-${orderId}`, amountCents };
  }
}

// #region child
/** Owned by the payments team, in its own namespace. */
@TaskHandler({ name: 'charge', namespace: 'payments' })
export class ChargeWorkflow {
  constructor(private readonly gateway: CardGateway) {}

  @Step()
  capture(ctx: StepContext<{ orderId: string; amountCents: number }>) {
    return this.gateway.capture(ctx.task.context.orderId, ctx.task.context.amountCents);
  }
}

@TaskHandler({ name: 'checkout', namespace: 'shop' })
export class CheckoutWorkflow {
  @Step()
  pay(ctx: StepContext<{ orderId: string; amountCents: number }>) {
    // Creates payments/charge once, as a child of this step, and waits until it finishes.
    return ctx.startChild({ name: 'charge', namespace: 'payments', context: { ...ctx.task.context } });
  }

  @Step()
  @DependsOn('pay')
  confirm(ctx: StepContext<{ orderId: string }>) {
    // What the parent gets: the child's id and the results of each of its steps.
    const charge = ctx.results['pay'] as { taskId: string; results: { capture: { captureId: string } } };
    return { orderId: ctx.task.context.orderId, chargeTask: charge.taskId, captureId: charge.results.capture.captureId };
  }
}
// #endregion

// ---------------------------------------------------------------------------------------------
// Sleep

// #region sleep
@TaskHandler({ name: 'trial', namespace: 'accounts' })
export class TrialWorkflow {
  @Step()
  start_trial(ctx: StepContext<{ accountId: string }>) {
    return { accountId: ctx.task.context.accountId, plan: 'pro-trial' };
  }

  @Step()
  @DependsOn('start_trial')
  two_weeks(ctx: StepContext) {
    return ctx.sleep(14 * 86_400_000); // durable: a restart or a deploy does not start it over
  }

  @Step()
  @DependsOn('two_weeks')
  send_reminder(ctx: StepContext<{ accountId: string }>) {
    return { reminded: ctx.task.context.accountId };
  }
}
// #endregion

// ---------------------------------------------------------------------------------------------
// Seeing it

// #region inspect
/** One line per step: its state, why it is (not) running, and what a waiting or map step holds. */
export async function describeDynamicSteps(tasker: TaskerService, taskId: string): Promise<string[]> {
  const task = await tasker.getTask(taskId);
  return task.steps.map((s) => {
    let line = `${s.name}: ${s.state} (${s.readiness.reason})`;
    if (s.instances) line += `, instances ${s.instances.done}/${s.instances.total} done, ${s.instances.failed} failed`;
    if (s.waitingFor?.kind === 'child') line += `, child task ${s.waitingFor.taskId}`;
    if (s.lastError?.code) line += `, ${s.lastError.code}`;
    return line;
  });
}
// #endregion

// #region listener
@Injectable()
export class DynamicStepsLog {
  readonly lines: string[] = [];

  @OnEvent(TaskerEvents.STEP_SKIPPED)
  onSkipped(e: StepEventPayload) {
    this.lines.push(`${e.stepName} skipped: ${e.reason}`); // 'condition false' or 'all parents skipped'
  }

  @OnEvent(TaskerEvents.STEP_WAITING)
  onWaiting(e: StepEventPayload) {
    this.lines.push(`${e.stepName} waiting: ${e.reason}`); // e.g. 'waiting for signal "signed"'
  }

  @OnEvent(TaskerEvents.SIGNAL_RECEIVED)
  onSignal(e: TaskerEventPayload) {
    if (e.event === TaskerEvents.SIGNAL_RECEIVED) this.lines.push(`signal ${e.signalName} from ${e.actor}`);
  }
}
// #endregion

@Module({
  providers: [
    ImageService,
    ESignService,
    ESignWebhook,
    CardGateway,
    DynamicStepsLog,
    ShipOrderWorkflow,
    PublishAlbumWorkflow,
    ContractSigningWorkflow,
    ChargeWorkflow,
    CheckoutWorkflow,
    TrialWorkflow,
  ],
  exports: [ImageService, ESignService, ESignWebhook, CardGateway, DynamicStepsLog],
})
export class DynamicWorkflowsModule {}
