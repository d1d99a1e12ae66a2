import { Injectable, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DEPENDS_ON_METADATA, STEP_METADATA, TASK_HANDLER_METADATA } from '../tasker.constants';
import type { StepOptions, TaskHandlerOptions } from '../interfaces/handler-options.interface';

/** Keeps metadata keys out of the explorer. */
@Injectable()
export class TaskerMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  handlerOptions(target: Type | Function): TaskHandlerOptions | undefined {
    return this.reflector.get(TASK_HANDLER_METADATA, target);
  }

  stepOptions(method: Function): StepOptions | undefined {
    return this.reflector.get(STEP_METADATA, method);
  }

  dependencies(method: Function): string[] {
    return this.reflector.get(DEPENDS_ON_METADATA, method) ?? [];
  }
}
