import { Injectable } from '@nestjs/common';
import { HandlerDefinition, handlerKey } from './handler-definition';

export interface RegisteredHandler extends HandlerDefinition {
  /** Id of the task type in the database. */
  typeId: number;
  /** The steps other steps depend on. */
  dependedOn: ReadonlySet<string>;
}

/** The task types this process has handlers for, by key and by database id. */
@Injectable()
export class HandlerRegistry {
  private readonly byKey = new Map<string, RegisteredHandler>();
  private readonly byTypeId = new Map<number, RegisteredHandler>();

  add(def: HandlerDefinition, typeId: number): void {
    const entry = { ...def, typeId, dependedOn: new Set(def.steps.flatMap((st) => st.dependsOn)) };
    this.byKey.set(handlerKey(def.namespace, def.name, def.version), entry);
    this.byTypeId.set(typeId, entry);
  }

  get(namespace: string, name: string, version: string): RegisteredHandler | undefined {
    return this.byKey.get(handlerKey(namespace, name, version));
  }

  /** Whether a step of this type is a parent of other steps (unknown types: assumed so). */
  hasDependents(namespace: string, name: string, version: string, stepName: string): boolean {
    return this.get(namespace, name, version)?.dependedOn.has(stepName) ?? true;
  }

  byType(typeId: number): RegisteredHandler | undefined {
    return this.byTypeId.get(typeId);
  }

  /** Database ids of the types this process can run: a worker claims only these. */
  typeIds(): number[] {
    return [...this.byTypeId.keys()];
  }

  all(): RegisteredHandler[] {
    return [...this.byKey.values()];
  }
}
