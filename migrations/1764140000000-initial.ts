import type { MigrationInterface, QueryRunner } from 'typeorm';
import { initialFunctionsSql } from './1764140000000-initial-functions.sql';
import { initialOperationsSql } from './1764140000000-initial-operations.sql';
import { initialSchemaSql } from './1764140000000-initial-schema.sql';
import { quoteIdent, wakeChannel } from './naming';

/** The first schema of Tasker: tables, indexes, and the engine's functions. */
export function initialMigration(schema: string): new () => MigrationInterface {
  const s = quoteIdent(schema);
  return class TaskerInitial1764140000000 implements MigrationInterface {
    name = 'TaskerInitial1764140000000';

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await queryRunner.query(initialSchemaSql(s));
      await queryRunner.query(initialFunctionsSql(s, wakeChannel(schema)));
      await queryRunner.query(initialOperationsSql(s, wakeChannel(schema)));
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP SCHEMA ${s} CASCADE`);
    }
  };
}
