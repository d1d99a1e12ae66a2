import { HandlerDefinition, StoredDefinition, toStoredDefinition } from '../registry/handler-definition';
import { findTaskTypesSql } from './sql/find-task-types.sql';
import { registerTaskTypeSql } from './sql/register-task-type.sql';
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
    const rows = await this.db.query<{ id: number }>(registerTaskTypeSql(this.db.s), [JSON.stringify(toStoredDefinition(def))]);
    return rows[0].id;
  }

  find(namespace?: string, name?: string): Promise<TaskTypeRow[]> {
    return this.db.query<TaskTypeRow>(findTaskTypesSql(this.db.s), [namespace ?? null, name ?? null]);
  }
}
