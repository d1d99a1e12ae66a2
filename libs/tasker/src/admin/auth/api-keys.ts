/** Parsing and checking API keys. Pure, apart from the constant-time comparison Node provides. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { TaskerConfigError } from '../../errors/boot.errors';
import type { ApiKey } from '../admin-options.interface';

const ROLES = ['viewer', 'operator'] as const;
const MIN_SECRET = 16;

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
            throw new TaskerConfigError(`TASKER_API_KEYS entry ${i + 1} must be name:role:secret (role viewer or operator).`);
          }
          return { name, role: role as ApiKey['role'], secret };
        });
  const names = new Set<string>();
  const secrets = new Set<string>();
  entries.forEach((k, i) => {
    const where = `API key ${i + 1}${typeof k?.name === 'string' ? ` ("${k.name}")` : ''}`;
    if (typeof k?.name !== 'string' || !/^[\w.@-]{1,64}$/.test(k.name)) {
      throw new TaskerConfigError(`${where}: the name must be 1-64 letters, digits, "_", ".", "@" or "-".`);
    }
    if (!ROLES.includes(k.role)) throw new TaskerConfigError(`${where}: the role must be viewer or operator.`);
    if (typeof k.secret !== 'string' || k.secret.length < MIN_SECRET) {
      throw new TaskerConfigError(`${where}: the secret must be at least ${MIN_SECRET} characters.`);
    }
    if (names.has(k.name)) throw new TaskerConfigError(`${where}: the name is used twice.`);
    // A shared secret would make the key indistinguishable from another (another name, maybe another role).
    if (secrets.has(k.secret)) throw new TaskerConfigError(`${where}: the secret is the same as another key's.`);
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
  const m = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header.trim());
  return m?.[1];
}
