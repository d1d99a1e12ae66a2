import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdent } from './naming';

const CHILDREN = ['workflow_steps', 'workflow_step_edges', 'task_transitions', 'workflow_step_transitions'];

/**
 * The rows of a task (steps, edges, transitions) no longer carry a foreign key to it: each row
 * the engine writes paid a referential check (a lookup of the task, ~5 per single-step task:
 * 15-20% of the database time of a claimed-and-completed step), and those checks' plans, cached
 * while the table was small, scanned it whole as it grew (bulk creation on a fresh schema went
 * from 0.3 to 1 s for 1,000 ten-step tasks). Only Tasker's functions write these rows, with ids
 * of tasks they hold locked. Deleting tasks (retention) still removes their rows: one trigger per
 * DELETE statement does it set-based, where the cascade ran per task and row.
 */
export function cascadeByTriggerMigration(schema: string): new () => MigrationInterface {
  const s = quoteIdent(schema);
  return class TaskerCascadeByTrigger1764400000000 implements MigrationInterface {
    name = 'TaskerCascadeByTrigger1764400000000';

    async up(queryRunner: QueryRunner): Promise<void> {
      for (const table of CHILDREN) {
        const fks: { conname: string }[] = await queryRunner.query(
          `SELECT conname FROM pg_constraint
            WHERE contype = 'f' AND conrelid = $1::regclass AND confrelid = $2::regclass`,
          [`${s}.${table}`, `${s}.tasks`],
        );
        for (const fk of fks) await queryRunner.query(`ALTER TABLE ${s}.${table} DROP CONSTRAINT ${quoteIdent(fk.conname)}`);
      }
      await queryRunner.query(`
        CREATE FUNCTION ${s}._tasks_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          DELETE FROM ${s}.workflow_step_edges e USING ${s}.workflow_steps w, gone g
           WHERE w.task_id = g.id AND e.from_step_id = w.id;
          DELETE FROM ${s}.workflow_step_transitions x USING gone g WHERE x.task_id = g.id;
          DELETE FROM ${s}.task_transitions x USING gone g WHERE x.task_id = g.id;
          DELETE FROM ${s}.workflow_steps x USING gone g WHERE x.task_id = g.id;
          RETURN NULL;
        END $$;
        CREATE TRIGGER tasks_deleted AFTER DELETE ON ${s}.tasks
          REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION ${s}._tasks_deleted();`);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP TRIGGER tasks_deleted ON ${s}.tasks; DROP FUNCTION ${s}._tasks_deleted();`);
      for (const table of CHILDREN) {
        await queryRunner.query(`ALTER TABLE ${s}.${table} ADD FOREIGN KEY (task_id) REFERENCES ${s}.tasks(id) ON DELETE CASCADE`);
      }
    }
  };
}
