import { Injectable, SetMetadata } from '@nestjs/common';
import { TASK_HANDLER_METADATA } from '../tasker.constants';
import type { TaskHandlerOptions } from '../interfaces/handler-options.interface';

/** Nest's key for `@Injectable({ scope })` (SCOPE_OPTIONS_METADATA in @nestjs/common/constants). */
const NEST_SCOPE_METADATA = 'scope:options';

/**
 * Marks a provider as the handler of one task type (namespace, name, version).
 * Its `@Step` methods form the workflow; register the class in a module's `providers`.
 */
export function TaskHandler(options: TaskHandlerOptions): ClassDecorator {
  return (target) => {
    // Keep the scope of an @Injectable() written below this decorator: a request-scoped handler
    // must be seen (and refused) at boot, not silently turned into a singleton.
    if (!Reflect.hasOwnMetadata(NEST_SCOPE_METADATA, target)) Injectable()(target);
    SetMetadata(TASK_HANDLER_METADATA, { ...options })(target);
  };
}
