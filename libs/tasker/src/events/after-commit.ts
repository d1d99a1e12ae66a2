import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';

interface Pending {
  depth: number;
  fn: () => void;
}

function depthOf(qr: QueryRunner): number {
  return (qr as unknown as { transactionDepth?: number }).transactionDepth ?? (qr.isTransactionActive ? 1 : 0);
}

/**
 * Defers work (publishing events, waking the worker) until the caller's transaction commits,
 * and drops it if that transaction (or the savepoint that wrote the rows) rolls back. Uses
 * TypeORM's own transaction subscriber hooks on the caller's DataSource.
 */
@Injectable()
export class AfterCommit implements EntitySubscriberInterface {
  private readonly pending = new WeakMap<QueryRunner, Pending[]>();
  private readonly attached = new WeakSet<DataSource>();

  /** Runs `fn` now when there is no open transaction on `manager`, else right after it commits. */
  run(manager: EntityManager | undefined, fn: () => void): void {
    const qr = manager?.queryRunner;
    if (!manager || !qr || !qr.isTransactionActive) {
      fn();
      return;
    }
    this.attach(manager.connection);
    const list = this.pending.get(qr) ?? [];
    list.push({ depth: depthOf(qr), fn });
    this.pending.set(qr, list);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const qr = event.queryRunner;
    if (qr.isTransactionActive) return; // a savepoint was released; the outer transaction is still open
    const list = this.pending.get(qr);
    this.pending.delete(qr);
    for (const p of list ?? []) p.fn();
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const qr = event.queryRunner;
    const list = this.pending.get(qr);
    if (!list) return;
    const depth = qr.isTransactionActive ? depthOf(qr) : 0;
    const kept = list.filter((p) => p.depth <= depth);
    if (kept.length > 0) this.pending.set(qr, kept);
    else this.pending.delete(qr);
  }

  private attach(ds: DataSource): void {
    if (this.attached.has(ds)) return;
    this.attached.add(ds);
    ds.subscribers.push(this);
  }
}
