import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import type { FieldError } from '../../errors/service.errors';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const field = `${prefix}${e.property}`;
    if (e.constraints) out.push({ field, messages: Object.values(e.constraints) });
    if (e.children?.length) out.push(...flatten(e.children, `${field}.`));
  }
  return out;
}

/** Bodies and queries are checked against their DTOs; unknown fields are refused; one entry per bad field. */
export function adminValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      return new BadRequestException({
        message: `Invalid request: ${details.map((d) => `${d.field} ${d.messages.join(', ')}`).join('; ')}`,
        details,
      });
    },
  });
}
