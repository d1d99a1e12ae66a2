import type { MigrationInterface, QueryRunner } from 'typeorm';
import { functionFiles, functionsHash, migrationSql, renderSql } from '../engine-sql';
import { quoteIdent } from '../naming';

/**
 * The DDL migrations, oldest first (an explicit list, never a glob). A migration holds only DDL and
 * signature changes, and drops what it replaces (a function whose signature changes is dropped
 * here; its new body comes from its file).
 */
const DDL: { timestamp: number; name: string; file: string; down: string }[] = [
  { timestamp: 1764900000000, name: 'TaskerBaseline', file: '1764900000000-baseline.sql', down: 'DROP SCHEMA :TASKER_SCHEMA CASCADE' },
  {
    timestamp: 1765000000000,
    name: 'TaskerDynamicSteps',
    file: '1765000000000-dynamic-steps.sql',
    // Steps in the new states would break the old constraint: only for a schema without dynamic work.
    down: `DROP TABLE :TASKER_SCHEMA.signals;
      ALTER TYPE :TASKER_SCHEMA.claimed_step DROP ATTRIBUTE map_index, DROP ATTRIBUTE item, DROP ATTRIBUTE resume;
      ALTER TABLE :TASKER_SCHEMA.tasks DROP COLUMN parent_task_id, DROP COLUMN parent_step_id, DROP COLUMN parent_step_name;
      ALTER TABLE :TASKER_SCHEMA.named_steps DROP COLUMN max_parallel;
      DROP INDEX :TASKER_SCHEMA.workflow_steps_map_idx;
      ALTER TABLE :TASKER_SCHEMA.workflow_steps DROP COLUMN parents_skipped, DROP COLUMN wait, DROP COLUMN map_step_id,
        DROP COLUMN map_index, DROP COLUMN item, DROP COLUMN map_total, DROP COLUMN map_done, DROP COLUMN max_parallel;
      ALTER TABLE :TASKER_SCHEMA.workflow_steps DROP CONSTRAINT workflow_steps_state_check;
      ALTER TABLE :TASKER_SCHEMA.workflow_steps ADD CONSTRAINT workflow_steps_state_check
        CHECK (state IN ('pending','in_progress','complete','error','cancelled','resolved_manually'));
      DROP INDEX :TASKER_SCHEMA.workflow_steps_ready_idx;
      CREATE INDEX workflow_steps_ready_idx ON :TASKER_SCHEMA.workflow_steps (available_at, id)
        WHERE state IN ('pending','error') AND NOT exhausted AND parents_done = parents_total;`,
  },
  {
    timestamp: 1765100000000,
    name: 'TaskerSchedules',
    file: '1765100000000-schedules.sql',
    down: `DROP TABLE :TASKER_SCHEMA.schedule_events, :TASKER_SCHEMA.schedules;
      DROP FUNCTION IF EXISTS :TASKER_SCHEMA.sync_schedules(int, jsonb);`,
  },
  {
    timestamp: 1765200000000,
    name: 'TaskerFlowControl',
    file: '1765200000000-flow-control.sql',
    down: `DROP TABLE :TASKER_SCHEMA.slots, :TASKER_SCHEMA.rate_windows;
      DROP INDEX :TASKER_SCHEMA.workflow_steps_priority_idx, :TASKER_SCHEMA.workflow_steps_held_key_idx;
      ALTER TABLE :TASKER_SCHEMA.workflow_steps DROP COLUMN priority, DROP COLUMN slot_key, DROP COLUMN rate_key,
        DROP COLUMN task_slot_key, DROP COLUMN held_key;
      ALTER TABLE :TASKER_SCHEMA.tasks DROP COLUMN priority, DROP COLUMN slot_key;
      ALTER TABLE :TASKER_SCHEMA.named_tasks DROP COLUMN concurrency, DROP COLUMN limited;
      ALTER TABLE :TASKER_SCHEMA.named_steps DROP COLUMN concurrency, DROP COLUMN rate_limit;`,
  },
  {
    timestamp: 1765300000000,
    name: 'TaskerOperations',
    file: '1765300000000-operations.sql',
    down: `DROP INDEX :TASKER_SCHEMA.workflow_steps_failed_idx, :TASKER_SCHEMA.tasks_finished_idx;
      DROP FUNCTION IF EXISTS :TASKER_SCHEMA.retry_tasks(bigint[], jsonb, text, text, boolean);
      DROP FUNCTION IF EXISTS :TASKER_SCHEMA.cancel_tasks(bigint[], jsonb, text, text, boolean);
      DROP FUNCTION IF EXISTS :TASKER_SCHEMA.purge_tasks(timestamptz, text[], int);
      DROP FUNCTION IF EXISTS :TASKER_SCHEMA._task_in_filter(:TASKER_SCHEMA.tasks, jsonb);`,
  },
  {
    timestamp: 1765500000000,
    name: 'TaskerLeanWrites',
    file: '1765500000000-lean-writes.sql',
    down: `DROP INDEX :TASKER_SCHEMA.tasks_tags_idx;
      CREATE INDEX tasks_tags_idx ON :TASKER_SCHEMA.tasks USING gin (tags);
      ALTER TABLE :TASKER_SCHEMA.task_transitions DROP CONSTRAINT task_transitions_pkey, ADD PRIMARY KEY (id);
      CREATE INDEX task_transitions_task_idx ON :TASKER_SCHEMA.task_transitions (task_id, id);
      ALTER TABLE :TASKER_SCHEMA.workflow_step_transitions DROP CONSTRAINT workflow_step_transitions_pkey, ADD PRIMARY KEY (id);
      CREATE INDEX workflow_step_transitions_task_idx ON :TASKER_SCHEMA.workflow_step_transitions (task_id, id);
      ALTER TABLE :TASKER_SCHEMA.tasks RESET (fillfactor);
      ALTER TABLE :TASKER_SCHEMA.workflow_steps RESET (fillfactor);`,
  },
  {
    timestamp: 1765600000000,
    name: 'TaskerCompactClaims',
    file: '1765600000000-compact-claims.sql',
    // The functions migration of the version reverted to recreates claim_steps with its event column.
    down: `DROP FUNCTION IF EXISTS :TASKER_SCHEMA.claim_steps(text, int[], int, int, int, int);
      ALTER TYPE :TASKER_SCHEMA.claimed_step DROP ATTRIBUTE start_id, DROP ATTRIBUTE start_from, DROP ATTRIBUTE start_at,
        DROP ATTRIBUTE task_start_id, DROP ATTRIBUTE task_start_at, DROP ATTRIBUTE task_created_at;`,
  },
  {
    timestamp: 1765700000000,
    name: 'TaskerFoldedTaskMoves',
    file: '1765700000000-folded-task-moves.sql',
    // The folded moves go with their columns: only for a schema whose trail may lose them.
    down: `DROP VIEW :TASKER_SCHEMA.transitions;
      ALTER TABLE :TASKER_SCHEMA.workflow_step_transitions DROP COLUMN task_transition_id, DROP COLUMN task_from, DROP COLUMN task_to;`,
  },
];

/** The functions migration of this version: it sorts after every DDL migration. */
const FUNCTIONS_TIMESTAMP = DDL[DDL.length - 1].timestamp + 1;

/**
 * Tasker's migrations for a schema, oldest first. Users who run migrations themselves pass these to
 * their DataSource's `migrations` and set `migrationsRun: false`.
 *
 * The last one (re)applies every function body from its file. It is named after a hash of those
 * files, so it runs once per distinct engine: when a new version changes a body, its name is new and
 * it runs; an older process booting later finds its own name already applied and leaves the newer
 * bodies alone.
 */
export function taskerMigrations(schema = 'tasker'): (new () => MigrationInterface)[] {
  const s = quoteIdent(schema);
  const ddl = DDL.map(({ timestamp, name, file, down }) => {
    const full = `${name}${timestamp}`;
    return class implements MigrationInterface {
      name = full;
      async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
        await queryRunner.query(renderSql(migrationSql(file), schema));
      }
      async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(renderSql(down, schema));
      }
    };
  });
  return [...ddl, functionsMigration(schema)];
}

/** The name of this version's functions migration. */
export function functionsMigrationName(): string {
  return `TaskerFunctions_${functionsHash()}_${FUNCTIONS_TIMESTAMP}`;
}

function functionsMigration(schema: string): new () => MigrationInterface {
  const full = functionsMigrationName();
  return class implements MigrationInterface {
    name = full;
    async up(queryRunner: QueryRunner): Promise<void> {
      for (const f of functionFiles()) await queryRunner.query(renderSql(f.sql, schema));
    }
    async down(): Promise<void> {
      // The previous bodies are those of the previous version's files: run its migrations.
    }
  };
}
