import { DEPENDS_ON_METADATA } from '../tasker.constants';

/** The step runs only after all the named steps are complete (or resolved manually). Stackable. */
export function DependsOn(...stepNames: string[]): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const existing: string[] = Reflect.getMetadata(DEPENDS_ON_METADATA, method) ?? [];
    Reflect.defineMetadata(DEPENDS_ON_METADATA, [...existing, ...stepNames], method);
    return descriptor;
  };
}
