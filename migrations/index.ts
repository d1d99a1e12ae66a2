import type { MigrationInterface } from 'typeorm';
import { initialMigration } from './1764140000000-initial';
import { workersMigration } from './1764200000000-workers';
import { batchedOutcomesMigration } from './1764300000000-batched-outcomes';
import { cascadeByTriggerMigration } from './1764400000000-cascade-by-trigger';
import { plannerProofOutcomesMigration } from './1764500000000-planner-proof-outcomes';

/**
 * Tasker's migrations for a schema, oldest first: an explicit list, never a glob. Users who run
 * migrations themselves pass these to their DataSource's `migrations` and set `migrationsRun: false`.
 */
export function taskerMigrations(schema = 'tasker'): (new () => MigrationInterface)[] {
  return [
    initialMigration(schema),
    workersMigration(schema),
    batchedOutcomesMigration(schema),
    cascadeByTriggerMigration(schema),
    plannerProofOutcomesMigration(schema),
  ];
}

export { quoteIdent, wakeChannel } from './naming';
