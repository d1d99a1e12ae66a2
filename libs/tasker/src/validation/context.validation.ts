/** Validates a task context against the handler's class-validator DTO (loaded only when a DTO is used). */
import type { FieldError } from '../errors/service.errors';

interface ValidationErrorLike {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationErrorLike[];
}

function flatten(errors: ValidationErrorLike[], prefix: string, out: FieldError[]): void {
  for (const e of errors) {
    const field = `${prefix}${e.property}`;
    if (e.constraints) out.push({ field, messages: Object.values(e.constraints) });
    if (e.children?.length) flatten(e.children, `${field}.`, out);
  }
}

export async function contextProblems(dto: new (...args: any[]) => object, context: Record<string, unknown>, prefix = 'context.'): Promise<FieldError[]> {
  const { plainToInstance } = require('class-transformer') as typeof import('class-transformer');
  const { validate } = require('class-validator') as typeof import('class-validator');
  const instance = plainToInstance(dto, context);
  const errors = (await validate(instance as object, { forbidUnknownValues: false })) as ValidationErrorLike[];
  const out: FieldError[] = [];
  flatten(errors, prefix, out);
  return out;
}
