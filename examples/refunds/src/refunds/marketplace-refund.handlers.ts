import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';
import { RefundContext, RefundLedger } from './refund-ledger.service';

/** Same task name, another namespace: a marketplace refund takes the money back from the seller first. */
@TaskHandler({ name: 'refund', namespace: 'marketplace', version: '1.0.0', description: 'Buyer refund charged to the seller' })
export class MarketplaceRefundV1 {
  constructor(private readonly ledger: RefundLedger) {}

  @Step()
  validate_claim(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }

  @Step()
  @DependsOn('validate_claim')
  debit_seller(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }

  @Step()
  @DependsOn('debit_seller')
  refund_buyer(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }
}

/** 2.0.0 also refunds the marketplace fees, in parallel with debiting the seller. */
@TaskHandler({ name: 'refund', namespace: 'marketplace', version: '2.0.0', description: 'Buyer refund with fee refund' })
export class MarketplaceRefundV2 {
  constructor(private readonly ledger: RefundLedger) {}

  @Step()
  validate_claim(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }

  @Step()
  @DependsOn('validate_claim')
  debit_seller(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }

  @Step()
  @DependsOn('validate_claim')
  refund_fees(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }

  @Step()
  @DependsOn('debit_seller', 'refund_fees')
  refund_buyer(ctx: StepContext<RefundContext>) {
    return this.ledger.record(ctx);
  }
}
