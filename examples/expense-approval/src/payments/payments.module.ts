import { Module } from '@nestjs/common';
import { Bank } from './bank.service';
import { PayoutWorkflow } from './payout.handler';

/** The payments team's feature: the payout workflow and its bank client. */
@Module({ providers: [Bank, PayoutWorkflow], exports: [Bank] })
export class PaymentsModule {}
