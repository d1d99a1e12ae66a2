import { ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import type { FieldError } from '../../errors/service.errors';
import { ADMIN_INVALID_REQUEST, JSON_TOO_DEEP, UNKNOWN_PROPERTY } from '../../tasker.messages';
import { jsonAsSentFields } from '../dto/json-as-sent.decorator';

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

/**
 * Top-level keys named like a member of Object.prototype (`__proto__`, `constructor`, `toString`...):
 * class-transformer skips them, so the whitelist never sees them as the unknown fields they are.
 */
function prototypeKeys(value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.keys(value).filter((k) => k === '__proto__' || Object.prototype.hasOwnProperty.call(Object.prototype, k));
}

/**
 * The validation pipe of the admin API, with what class-transformer gets wrong: a deeply nested body
 * would overflow its stack (a 500; a 400 instead), keys named like Object.prototype members are
 * dropped (refused at the top level, kept as sent in free-form JSON fields).
 */
class AdminValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (tooDeep(value)) {
      const messages = [JSON_TOO_DEEP(MAX_DEPTH)];
      throw new BadRequestException({ message: ADMIN_INVALID_REQUEST(`${metadata.type} ${messages[0]}`), details: [{ field: metadata.type, messages }] });
    }
    if (metadata.type === 'body' || metadata.type === 'query') {
      const unknown = prototypeKeys(value);
      if (unknown.length) {
        const details = unknown.map((k) => ({ field: k, messages: [UNKNOWN_PROPERTY(k)] }));
        throw new BadRequestException({ message: ADMIN_INVALID_REQUEST(details.map((d) => d.messages[0]).join('; ')), details });
      }
    }
    const fields = jsonAsSentFields(metadata.metatype).filter((f) => value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, f));
    if (!fields.length) return super.transform(value, metadata);
    // Free-form JSON never goes through class-transformer (nor Nest's in-place stripping of __proto__
    // and constructor keys): it is validated through an empty stand-in of the same kind and kept as parsed,
    // whose keys JSON.parse made own data properties, which is safe to keep and store.
    const sent = value as Record<string | symbol, unknown>;
    const copy: Record<string | symbol, unknown> = { ...sent };
    for (const f of fields) copy[f] = standIn(sent[f]);
    const out = (await super.transform(copy, metadata)) as Record<string | symbol, unknown>;
    for (const f of fields) out[f] = sent[f];
    return out;
  }
}

/** A value of the same JSON kind as `v` with nothing inside, for the field's validators. */
function standIn(v: unknown): unknown {
  if (Array.isArray(v)) return [];
  return v !== null && typeof v === 'object' ? {} : v;
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
