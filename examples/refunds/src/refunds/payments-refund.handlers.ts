import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';
import { RefundContext, RefundLedger } from './refund-ledger.service';

/** The first release: validate → refund the card → tell the customer. */
@TaskHandler({ name: 'refund', namespace: 'payments', version: '1.0.0', description: 'Card refund' })
export class PaymentsRefundV1 {
  constructor(private readonly ledger: RefundLedger) {}

  @Step()
  validate_refund(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }

  @Step()
  @DependsOn('validate_refund')
  refund_payment(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }

  @Step()
  @DependsOn('refund_payment')
  notify_customer(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }
}

/**
 * Version 2.0.0 adds `restock_items`, in parallel with the refund. It is a new class with a new
 * version, registered next to 1.0.0: tasks created as 1.0.0 keep their steps and finish as 1.0.0.
 */
@TaskHandler({ name: 'refund', namespace: 'payments', version: '2.0.0', description: 'Card refund with restocking' })
export class PaymentsRefundV2 {
  constructor(private readonly ledger: RefundLedger) {}

  @Step()
  validate_refund(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }

  @Step()
  @DependsOn('validate_refund')
  refund_payment(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }

  @Step()
  @DependsOn('validate_refund')
  restock_items(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }

  @Step()
  @DependsOn('refund_payment', 'restock_items')
  notify_customer(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }
}
