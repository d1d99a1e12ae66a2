import { STEP_METADATA } from '../tasker.constants';
import type { StepOptions } from '../interfaces/handler-options.interface';

/** Marks a method of a `@TaskHandler` as a step; it receives a `StepContext` and its return value is stored as the step's results. */
export function Step(options: StepOptions = {}): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(STEP_METADATA, { ...options }, descriptor.value as object);
    return descriptor;
  };
}
