import { PermanentError } from '../errors/step.errors';
import type { RegisteredHandler } from '../registry/handler.registry';
import { FAULT_INJECTED, FAULT_UNKNOWN_STEP } from '../tasker.messages';

export interface StepFault {
  /** Fail this many attempts, then run the real step. Default 1. Ignored when `permanent`. */
  times?: number;
  /** Throw a PermanentError (no retry) on every attempt. */
  permanent?: boolean;
  /** What to throw (a value or a factory); default an Error naming the injected fault. */
  error?: unknown | (() => unknown);
}

/**
 * Makes chosen steps fail without touching handler code: the step method is shadowed on the
 * handler instance (the worker calls it from there), and restored by `restore()`.
 */
export class StepFaults {
  private readonly restores: (() => void)[] = [];

  inject(handler: RegisteredHandler, stepName: string, fault: StepFault): { failures(): number } {
    const step = handler.steps.find((s) => s.name === stepName);
    if (!step) {
      throw new Error(FAULT_UNKNOWN_STEP(`${handler.namespace}/${handler.name}@${handler.version}`, stepName, handler.steps.map((s) => s.name)));
    }
    const instance = handler.instance as Record<string, unknown>;
    const hadOwn = Object.prototype.hasOwnProperty.call(instance, step.methodName);
    const previous = instance[step.methodName] as (...args: unknown[]) => unknown;
    let failed = 0;
    const limit = fault.permanent ? Infinity : (fault.times ?? 1);
    instance[step.methodName] = function (this: unknown, ...args: unknown[]) {
      if (failed < limit) {
        failed++;
        if (fault.error !== undefined) throw typeof fault.error === 'function' ? (fault.error as () => unknown)() : fault.error;
        const message = FAULT_INJECTED(failed, limit, stepName);
        throw fault.permanent ? new PermanentError(message, { code: 'INJECTED' }) : new Error(message);
      }
      return previous.apply(this, args);
    };
    this.restores.push(() => {
      if (hadOwn) instance[step.methodName] = previous;
      else delete instance[step.methodName];
    });
    return { failures: () => failed };
  }

  restore(): void {
    for (const r of this.restores.splice(0).reverse()) r();
  }
}
