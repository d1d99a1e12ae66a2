import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent } from './naming';

/** Live workers, each row refreshed by its process while it runs: what "workers alive" counts. */
export function workersMigration(schema: string): new () => MigrationInterface {
  const s = quoteIdent(schema);
  return class TaskerWorkers1764200000000 implements MigrationInterface {
    name = 'TaskerWorkers1764200000000';

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`
        CREATE TABLE ${s}.workers (
          id            text PRIMARY KEY,
          hostname      text NOT NULL,
          pid           int NOT NULL,
          concurrency   int NOT NULL,
          in_flight     int NOT NULL DEFAULT 0,
          task_types    text[] NOT NULL DEFAULT '{}',
          started_at    timestamptz NOT NULL DEFAULT now(),
          last_seen_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX workers_last_seen_idx ON ${s}.workers (last_seen_at);`);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP TABLE ${s}.workers`);
    }
  };
}
