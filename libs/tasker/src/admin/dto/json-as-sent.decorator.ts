import 'reflect-metadata';

const AS_SENT = Symbol('tasker:json-as-sent');

/**
 * Marks a free-form JSON field (a context, results, a payload): the validation pipe keeps it exactly
 * as parsed from the request instead of class-transformer's copy, which drops keys named like
 * Object.prototype members (`__proto__`, `constructor`, `toString`...) at any depth.
 */
export function JsonAsSent(): PropertyDecorator {
  return (target, key) => {
    const fields: (string | symbol)[] = Reflect.getMetadata(AS_SENT, target.constructor) ?? [];
    Reflect.defineMetadata(AS_SENT, [...fields, key], target.constructor);
  };
}

/** The fields of a DTO class (and of its parents) marked with JsonAsSent. */
export function jsonAsSentFields(type: unknown): (string | symbol)[] {
  return typeof type === 'function' ? (Reflect.getMetadata(AS_SENT, type) ?? []) : [];
}
