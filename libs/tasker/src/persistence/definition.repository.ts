import { DefinitionConflictError } from '../errors/boot.errors';
import { definitionDifferences } from '../registry/definition-diff';
import { HandlerDefinition, handlerKey, StoredDefinition, toStoredDefinition } from '../registry/handler-definition';
import { DEFINITION_CONFLICT } from '../tasker.messages';
import { TaskerDatabase } from './tasker-database';

export interface TaskTypeRow {
  id: number;
  namespace: string;
  name: string;
  version: string;
  description: string | null;
  definition: StoredDefinition;
  created_at: Date;
  updated_at: Date;
}

/** Task types as recorded in the database by every process that has their handlers. */
export class DefinitionRepository {
  constructor(private readonly db: TaskerDatabase) {}

  /** Records the definition; DefinitionConflictError if its version is recorded with other steps. */
  async register(def: HandlerDefinition): Promise<number> {
    const stored = toStoredDefinition(def);
    try {
      const rows = await this.db.query<{ id: number }>(`SELECT ${this.db.s}.register_task_type($1::jsonb) AS id`, [JSON.stringify(stored)]);
      return rows[0].id;
    } catch (e) {
      const err = e as { code?: string; detail?: string };
      if (err?.code !== 'TK412') throw e;
      const recorded = JSON.parse(err.detail ?? '{}') as StoredDefinition;
      const differences = definitionDifferences(recorded, stored);
      throw new DefinitionConflictError(DEFINITION_CONFLICT(handlerKey(def.namespace, def.name, def.version), this.db.schema, differences));
    }
  }

  find(namespace?: string, name?: string): Promise<TaskTypeRow[]> {
    return this.db.read<TaskTypeRow>(
      `SELECT nt.id, ns.name AS namespace, nt.name, nt.version, nt.description, nt.definition, nt.created_at, nt.updated_at
         FROM ${this.db.s}.named_tasks nt JOIN ${this.db.s}.namespaces ns ON ns.id = nt.namespace_id
        WHERE ($1::text IS NULL OR ns.name = $1) AND ($2::text IS NULL OR nt.name = $2)
        ORDER BY ns.name, nt.name, nt.id`,
      [namespace ?? null, name ?? null],
    );
  }
}
