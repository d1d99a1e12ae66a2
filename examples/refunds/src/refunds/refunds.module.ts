import { Module } from '@nestjs/common';
import { MarketplaceRefundV1, MarketplaceRefundV2 } from './marketplace-refund.handlers';
import { PaymentsRefundV1, PaymentsRefundV2 } from './payments-refund.handlers';
import { RefundLedger } from './refund-ledger.service';

/** `refund` in two namespaces, two versions each, side by side in one process. */
@Module({
  providers: [RefundLedger, PaymentsRefundV1, PaymentsRefundV2, MarketplaceRefundV1, MarketplaceRefundV2],
  exports: [RefundLedger],
})
export class RefundsModule {}
