import { ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import type { FieldError } from '../../errors/service.errors';
import { ADMIN_INVALID_REQUEST, JSON_TOO_DEEP } from '../../tasker.messages';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field = `${prefix}${e.property}`;
    if (e.constraints) out.push({ field, messages: Object.values(e.constraints) });
    if (e.children?.length) out.push(...flatten(e.children, `${field}.`));
  }
  return out;
}

/** Deeper than any stored JSON may be (64 levels): refused before class-transformer recurses into it. */
const MAX_DEPTH = 100;

function tooDeep(v: unknown, d = 0): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (d >= MAX_DEPTH) return true;
  return Object.values(v).some((x) => tooDeep(x, d + 1));
}

/** A deeply nested body would overflow class-transformer's stack (a 500); it is a 400 instead. */
class AdminValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (tooDeep(value)) {
      const messages = [JSON_TOO_DEEP(MAX_DEPTH)];
      throw new BadRequestException({ message: ADMIN_INVALID_REQUEST(`${metadata.type} ${messages[0]}`), details: [{ field: metadata.type, messages }] });
    }
    return super.transform(value, metadata);
  }
}

/** Bodies and queries are checked against their DTOs; unknown fields are refused; one entry per bad field. */
export function adminValidationPipe(): ValidationPipe {
  return new AdminValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      return new BadRequestException({
        // class-validator's messages already name the property ("limit must not be greater than 500").
        message: ADMIN_INVALID_REQUEST(details.map((d) => d.messages.join(', ')).join('; ')),
        details,
      });
    },
  });
}
