import type { MigrationInterface, QueryRunner } from 'typeorm';
import { batchedOutcomesSql } from './1764300000000-batched-outcomes.sql';
import { plannerProofOutcomesSql } from './1764500000000-planner-proof-outcomes.sql';
import { quoteIdent, wakeChannel } from './naming';

/** Leaner hand-offs: complete_one, and complete_steps and claim_steps planned by key on a young schema too; see the SQL file. */
export function plannerProofOutcomesMigration(schema: string): new () => MigrationInterface {
  const s = quoteIdent(schema);
  return class TaskerPlannerProofOutcomes1764500000000 implements MigrationInterface {
    name = 'TaskerPlannerProofOutcomes1764500000000';

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(plannerProofOutcomesSql(s, wakeChannel(schema)));
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP FUNCTION ${s}.create_tasks_returning(jsonb)`);
      await queryRunner.query(`DROP FUNCTION ${s}._wake_for_unclaimed(bigint, text)`);
      await queryRunner.query(`DROP FUNCTION ${s}.complete_one(bigint, uuid, jsonb, boolean)`);
      // The bodies of 1764300000000, replaced as they were.
      const previous = batchedOutcomesSql(s, wakeChannel(schema)).replace(
        `CREATE FUNCTION ${s}.complete_steps`,
        `CREATE OR REPLACE FUNCTION ${s}.complete_steps`,
      );
      await queryRunner.query(previous);
    }
  };
}
