/** Parsing and checking API keys. Pure, apart from the constant-time comparison Node provides. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { TaskerConfigError } from '../../errors/boot.errors';
import {
  API_KEY_AT,
  API_KEY_NAME_INVALID,
  API_KEY_NAME_TWICE,
  API_KEY_ROLE_INVALID,
  API_KEY_SECRET_CHARACTERS,
  API_KEY_SECRET_TOO_LONG,
  API_KEY_SECRET_TOO_SHORT,
  API_KEY_SECRET_TWICE,
  API_KEYS_ENTRY_MALFORMED,
} from '../../tasker.messages';
import type { ApiKey } from '../admin-options.interface';

const ROLES = ['viewer', 'operator'] as const;
const MIN_SECRET = 16;
const MAX_SECRET = 512;
/** What a Bearer token may hold (RFC 6750's token68, loosened to every visible ASCII character). */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

/** Parses `name:role:secret,...`; every problem is reported, secrets never appear in messages. */
export function parseApiKeys(input: string | ApiKey[] | undefined): ApiKey[] {
  if (input === undefined) return [];
  const entries: ApiKey[] = Array.isArray(input)
    ? input
    : input
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean)
        .map((e, i) => {
          const [name, role, ...rest] = e.split(':');
          const secret = rest.join(':');
          if (!name || !role || !secret) {
            throw new TaskerConfigError(API_KEYS_ENTRY_MALFORMED(i + 1));
          }
          return { name, role: role as ApiKey['role'], secret };
        });
  const names = new Set<string>();
  const secrets = new Set<string>();
  entries.forEach((k, i) => {
    const where = API_KEY_AT(i + 1, k?.name);
    if (typeof k?.name !== 'string' || !/^[\w.@-]{1,64}$/.test(k.name)) {
      throw new TaskerConfigError(API_KEY_NAME_INVALID(where));
    }
    if (!ROLES.includes(k.role)) throw new TaskerConfigError(API_KEY_ROLE_INVALID(where));
    if (typeof k.secret !== 'string' || k.secret.length < MIN_SECRET) {
      throw new TaskerConfigError(API_KEY_SECRET_TOO_SHORT(where, MIN_SECRET));
    }
    // A secret no Authorization header can carry would never authenticate: refused at boot instead.
    if (k.secret.length > MAX_SECRET) throw new TaskerConfigError(API_KEY_SECRET_TOO_LONG(where, MAX_SECRET));
    if (!TOKEN_CHARS.test(k.secret)) throw new TaskerConfigError(API_KEY_SECRET_CHARACTERS(where));
    if (names.has(k.name)) throw new TaskerConfigError(API_KEY_NAME_TWICE(where));
    // A shared secret would make the key indistinguishable from another (another name, maybe another role).
    if (secrets.has(k.secret)) throw new TaskerConfigError(API_KEY_SECRET_TWICE(where));
    names.add(k.name);
    secrets.add(k.secret);
  });
  return entries.map((k) => ({ name: k.name, role: k.role, secret: k.secret }));
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The key whose secret matches, compared in constant time. Every key is compared (no early exit)
 * and secrets are hashed first, so neither timing nor length tells which part matched.
 */
export function findApiKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const given = digest(presented);
  let found: ApiKey | undefined;
  for (const k of keys) {
    if (timingSafeEqual(digest(k.secret), given) && !found) found = k;
  }
  return found;
}

/** The bearer token of an Authorization header, or undefined when the header is absent or malformed. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer (\S+)$/i.exec(header.trim());
  const token = m?.[1];
  return token !== undefined && token.length <= MAX_SECRET && TOKEN_CHARS.test(token) ? token : undefined;
}
