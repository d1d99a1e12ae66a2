import { HandlerDefinition, StoredDefinition, toStoredDefinition } from '../registry/handler-definition';
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

  async register(def: HandlerDefinition): Promise<number> {
    const rows = await this.db.query<{ id: number }>(`SELECT ${this.db.s}.register_task_type($1::jsonb) AS id`, [JSON.stringify(toStoredDefinition(def))]);
    return rows[0].id;
  }

  find(namespace?: string, name?: string): Promise<TaskTypeRow[]> {
    return this.db.query<TaskTypeRow>(
      `SELECT nt.id, ns.name AS namespace, nt.name, nt.version, nt.description, nt.definition, nt.created_at, nt.updated_at
         FROM ${this.db.s}.named_tasks nt JOIN ${this.db.s}.namespaces ns ON ns.id = nt.namespace_id
        WHERE ($1::text IS NULL OR ns.name = $1) AND ($2::text IS NULL OR nt.name = $2)
        ORDER BY ns.name, nt.name, nt.id`,
      [namespace ?? null, name ?? null],
    );
  }
}
