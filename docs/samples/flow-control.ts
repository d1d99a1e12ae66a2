import { Injectable, Module } from '@nestjs/common';
import { DependsOn, Step, TaskerModule, TaskerService, TaskHandler } from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';

// ---------------------------------------------------------------------------------------------
// Priority

/** Which reports were rendered, in the order their steps started. */
@Injectable()
export class ReportLog {
  readonly started: string[] = [];
}

@TaskHandler({ name: 'render_report', namespace: 'reports' })
export class RenderReportWorkflow {
  constructor(private readonly log: ReportLog) {}

  @Step()
  render(ctx: StepContext<{ accountId: string }>) {
    this.log.started.push(ctx.task.context.accountId);
    return { url: `https://files.example.com/reports/${ctx.task.context.accountId}.pdf` };
  }
}

// #region priority
@Injectable()
export class ReportRequests {
  constructor(private readonly tasker: TaskerService) {}

  /** Someone is waiting for it on screen: claimed before the nightly batch. */
  forUser(accountId: string) {
    return this.tasker.createTask({ name: 'render_report', namespace: 'reports', context: { accountId }, priority: 50 });
  }

  /** The nightly batch: runs when nothing more urgent is ready (priority -100…100, default 0). */
  nightly(accountIds: string[]) {
    return this.tasker.createTasks(
      accountIds.map((accountId) => ({ name: 'render_report', namespace: 'reports', context: { accountId }, priority: -10 })),
    );
  }
}
// #endregion

// #region aging
export const reportWorkers = TaskerModule.forRoot({
  databaseUrl: process.env.DATABASE_URL,
  worker: {
    concurrency: 10,
    priorityAgingMs: 60_000, // after a minute ready, work gets its share of claims whatever its priority (default 10 s)
  },
});
// #endregion

// ---------------------------------------------------------------------------------------------
// Concurrency limits

/** Stands in for a CRM's API: counts the calls running per key, and can hold them (tests). */
@Injectable()
export class CrmApi {
  readonly running = new Map<string, number>();
  /** The most calls that ran at once, per key. */
  readonly most = new Map<string, number>();
  readonly calls: string[] = [];
  /** Tests: while set, calls wait for it. */
  hold?: Promise<void>;

  private async call<T>(key: string, what: string, result: T): Promise<T> {
    this.calls.push(what);
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    this.most.set(key, Math.max(this.most.get(key) ?? 0, this.running.get(key)!));
    try {
      await this.hold;
      return result;
    } finally {
      this.running.set(key, this.running.get(key)! - 1);
    }
  }

  pull(accountId: string) {
    return this.call(`account:${accountId}`, `pull ${accountId}`, { accountId, contacts: 3 });
  }

  push(accountId: string, contacts: number) {
    return this.call(`push:${accountId}`, `push ${accountId}`, { pushed: contacts });
  }

  lookup(region: string, email: string) {
    return this.call(`region:${region}`, `lookup ${email}`, { email, company: email.split('@')[1] });
  }
}

// #region task-concurrency
// One sync per CRM account at a time, across every process; other accounts sync in parallel.
@TaskHandler({ name: 'sync_account', namespace: 'crm', concurrency: { key: 'account.id', limit: 1 } })
export class SyncAccountWorkflow {
  constructor(private readonly crm: CrmApi) {}

  @Step()
  pull(ctx: StepContext<{ account: { id: string } }>) {
    return this.crm.pull(ctx.task.context.account.id);
  }

  @Step()
  @DependsOn('pull')
  push(ctx: StepContext<{ account: { id: string } }>) {
    const { contacts } = ctx.results['pull'] as { contacts: number };
    return this.crm.push(ctx.task.context.account.id, contacts);
  }
}
// #endregion

// #region concurrency-key
@Injectable()
export class AccountSyncs {
  constructor(private readonly tasker: TaskerService) {}

  /** A merged account syncs under the key of the account it was merged into, never beside it. */
  start(accountId: string, mergedInto?: string) {
    return this.tasker.createTask({
      name: 'sync_account',
      namespace: 'crm',
      context: { account: { id: accountId } },
      ...(mergedInto ? { concurrencyKey: mergedInto } : {}),
    });
  }
}
// #endregion

// #region step-concurrency
@TaskHandler({ name: 'enrich_lead', namespace: 'crm' })
export class EnrichLeadWorkflow {
  constructor(private readonly crm: CrmApi) {}

  // At most 2 lookups per region at once, across every process; the task's other steps are not limited.
  @Step({ concurrency: { key: 'region', limit: 2 } })
  lookup(ctx: StepContext<{ email: string; region: string }>) {
    return this.crm.lookup(ctx.task.context.region, ctx.task.context.email);
  }

  @Step()
  @DependsOn('lookup')
  score(ctx: StepContext) {
    const { company } = ctx.results['lookup'] as { company: string };
    return { score: company.endsWith('.example') ? 10 : 50 };
  }
}
// #endregion

// ---------------------------------------------------------------------------------------------
// Rate limits

/** Stands in for a payment provider's API: records each call with its merchant. */
@Injectable()
export class PaymentsApi {
  readonly calls: { kind: string; merchantId: string }[] = [];
  /** Tests: while set, calls wait for it. */
  hold?: Promise<void>;

  async call(kind: string, merchantId: string, amount: number) {
    this.calls.push({ kind, merchantId });
    await this.hold;
    return { id: `${kind}-${this.calls.length}`, amount };
  }
}

// #region rate-limit
// The provider allows each merchant 3 calls per second; charges and refunds count together.
const PAYMENTS_API = { bucket: 'payments_api', limit: 3, periodMs: 1_000, key: 'merchantId' };

@TaskHandler({ name: 'charge', namespace: 'billing' })
export class ChargeWorkflow {
  constructor(private readonly payments: PaymentsApi) {}

  @Step({ rateLimit: PAYMENTS_API })
  charge(ctx: StepContext<{ merchantId: string; amount: number }>) {
    return this.payments.call('charge', ctx.task.context.merchantId, ctx.task.context.amount);
  }
}

@TaskHandler({ name: 'refund', namespace: 'billing' })
export class RefundWorkflow {
  constructor(private readonly payments: PaymentsApi) {}

  @Step({ rateLimit: PAYMENTS_API }) // the same bucket: the same window per merchant
  refund(ctx: StepContext<{ merchantId: string; amount: number }>) {
    return this.payments.call('refund', ctx.task.context.merchantId, -ctx.task.context.amount);
  }
}
// #endregion

// #region combined
// One payout per merchant at a time; at most 4 transfers at once in all; the transfer uses the
// merchant's payments_api window with charges and refunds.
@TaskHandler({ name: 'payout', namespace: 'billing', concurrency: { key: 'merchantId', limit: 1 } })
export class PayoutWorkflow {
  constructor(private readonly payments: PaymentsApi) {}

  @Step()
  compute(ctx: StepContext<{ merchantId: string; amount: number }>) {
    return { amount: ctx.task.context.amount };
  }

  @Step({ concurrency: { limit: 4 }, rateLimit: PAYMENTS_API })
  @DependsOn('compute')
  transfer(ctx: StepContext<{ merchantId: string }>) {
    const { amount } = ctx.results['compute'] as { amount: number };
    return this.payments.call('transfer', ctx.task.context.merchantId, amount);
  }
}
// #endregion

@Module({
  providers: [
    ReportLog,
    RenderReportWorkflow,
    ReportRequests,
    CrmApi,
    SyncAccountWorkflow,
    AccountSyncs,
    EnrichLeadWorkflow,
    PaymentsApi,
    ChargeWorkflow,
    RefundWorkflow,
    PayoutWorkflow,
  ],
  exports: [ReportLog, ReportRequests, CrmApi, AccountSyncs, PaymentsApi],
})
export class FlowControlModule {}
