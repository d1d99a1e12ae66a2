import { Injectable } from '@nestjs/common';
import { HandlerNotFoundError } from '../errors/service.errors';
import { DefinitionRepository, TaskTypeRow } from '../persistence/definition.repository';
import { compareVersions } from '../registry/definition-builder';
import { HandlerRegistry, RegisteredHandler } from '../registry/handler.registry';

export interface ResolvedType {
  typeId: number;
  namespace: string;
  name: string;
  version: string;
  /** Present when this process has the handler (and so its context DTO). */
  local?: RegisteredHandler;
}

const CACHE_MS = 2_000;

/**
 * Finds the task type a request means: this process's handlers first, else the types every
 * process recorded in the database; without a version, the highest registered one.
 */
@Injectable()
export class TaskTypeResolver {
  private readonly cache = new Map<string, { at: number; rows: TaskTypeRow[] }>();

  constructor(
    private readonly registry: HandlerRegistry,
    private readonly definitions: DefinitionRepository,
  ) {}

  async resolve(namespace: string, name: string, version?: string): Promise<ResolvedType> {
    if (version !== undefined) {
      const local = this.registry.get(namespace, name, version);
      if (local) return { typeId: local.typeId, namespace, name, version, local };
    }
    const rows = await this.rows(namespace, name);
    const candidates = version === undefined ? rows : rows.filter((r) => r.version === version);
    if (candidates.length === 0) throw new HandlerNotFoundError(namespace, name, version, await this.registeredTypes());
    const best = candidates.reduce((a, b) => (compareVersions(b.version, a.version) > 0 ? b : a));
    return {
      typeId: best.id,
      namespace,
      name,
      version: best.version,
      local: this.registry.get(namespace, name, best.version),
    };
  }

  /** Every task type any process registered, as "namespace/name": what a mistyped request is compared with. */
  private async registeredTypes(): Promise<string[]> {
    const local = this.registry.all().map((h) => `${h.namespace}/${h.name}`);
    const recorded = (await this.definitions.find()).map((r) => `${r.namespace}/${r.name}`);
    return [...new Set([...local, ...recorded])];
  }

  private async rows(namespace: string, name: string): Promise<TaskTypeRow[]> {
    const key = `${namespace}/${name}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS && hit.rows.length > 0) return hit.rows;
    const rows = await this.definitions.find(namespace, name);
    this.cache.set(key, { at: Date.now(), rows });
    return rows;
  }
}
