import { applyDecorators, Injectable, SetMetadata } from '@nestjs/common';
import { TASK_HANDLER_METADATA } from '../tasker.constants';
import type { TaskHandlerOptions } from '../interfaces/handler-options.interface';

/**
 * Marks a provider as the handler of one task type (namespace, name, version).
 * Its `@Step` methods form the workflow; register the class in a module's `providers`.
 */
export function TaskHandler(options: TaskHandlerOptions): ClassDecorator {
  return applyDecorators(Injectable(), SetMetadata(TASK_HANDLER_METADATA, { ...options }));
}
