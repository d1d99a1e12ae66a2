import { Injectable, Scope } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { HandlerDefinitionError } from '../errors/boot.errors';
import { buildHandlerDefinition, RawStep } from '../registry/definition-builder';
import { HandlerDefinition, handlerKey } from '../registry/handler-definition';
import { TaskerConfig } from '../interfaces/tasker-options.interface';
import { HANDLER_DECLARED_TWICE, HANDLER_NOT_SINGLETON, HANDLER_REGISTERED_TWICE } from '../tasker.messages';
import { TaskerMetadataAccessor } from './tasker-metadata.accessor';

/** Finds every `@TaskHandler` provider of the app and builds its validated definition. */
@Injectable()
export class TaskerExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: TaskerMetadataAccessor,
  ) {}

  explore(config: TaskerConfig): HandlerDefinition[] {
    const found: HandlerDefinition[] = [];
    const seen = new Map<string, string>();
    for (const wrapper of this.discovery.getProviders()) {
      const cls = wrapper.metatype;
      if (!cls || typeof cls !== 'function') continue;
      const opts = this.accessor.handlerOptions(cls);
      if (!opts) continue;
      if (wrapper.scope === Scope.REQUEST || wrapper.scope === Scope.TRANSIENT || !wrapper.isDependencyTreeStatic()) {
        throw new HandlerDefinitionError(HANDLER_NOT_SINGLETON(cls.name, wrapper.scope === Scope.TRANSIENT ? 'transient' : 'request'));
      }
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance) continue;
      const proto = Object.getPrototypeOf(instance);
      const rawSteps: RawStep[] = [];
      for (const methodName of this.scanner.getAllMethodNames(proto)) {
        const method = proto[methodName];
        const options = this.accessor.stepOptions(method);
        if (options) rawSteps.push({ methodName, options, dependsOn: this.accessor.dependencies(method) });
      }
      const def = buildHandlerDefinition(cls.name, opts, rawSteps, config.defaults);
      const key = handlerKey(def.namespace, def.name, def.version);
      const other = seen.get(key);
      if (other !== undefined) {
        throw new HandlerDefinitionError(other === cls.name ? HANDLER_REGISTERED_TWICE(cls.name, key) : HANDLER_DECLARED_TWICE(cls.name, other, key));
      }
      seen.set(key, cls.name);
      found.push({ ...def, instance });
    }
    return found;
  }
}
