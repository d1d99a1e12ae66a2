import type { MigrationInterface, QueryRunner } from 'typeorm';
import { batchedOutcomesSql } from './1764300000000-batched-outcomes.sql';
import { quoteIdent, wakeChannel } from './naming';

/** complete_steps (a worker's finished attempts in one statement) and a faster claim_steps; see the SQL file. */
export function batchedOutcomesMigration(schema: string): new () => MigrationInterface {
  const s = quoteIdent(schema);
  return class TaskerBatchedOutcomes1764300000000 implements MigrationInterface {
    name = 'TaskerBatchedOutcomes1764300000000';

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(batchedOutcomesSql(s, wakeChannel(schema)));
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      // claim_steps keeps its new body: the first one is equivalent, only slower.
      await queryRunner.query(`DROP FUNCTION ${s}.complete_steps(bigint[], uuid[], jsonb[])`);
    }
  };
}
