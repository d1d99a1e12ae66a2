import { API_KEY_UNKNOWN, API_KEY_VIEWER_ONLY, AUTH_HEADER_MISSING } from '../../tasker.messages';
import type { AdminAuth } from './admin-auth';
import { bearerToken, findApiKey } from './api-keys';
import type { Caller } from './auth.decorators';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type AuthOutcome = { caller: Caller } | { status: 401 | 403; message: string };

/** Who calls with this Authorization header, or why not: 401 without a valid key, 403 for a viewer acting. */
export function authenticate(auth: AdminAuth, authorization: unknown, method: string): AuthOutcome {
  if (auth.insecure) return { caller: { name: 'anonymous', role: 'operator' } };
  const token = bearerToken(authorization);
  if (!token) return { status: 401, message: AUTH_HEADER_MISSING() };
  const key = findApiKey(auth.keys, token);
  if (!key) return { status: 401, message: API_KEY_UNKNOWN() };
  if (!READ_METHODS.has(method) && key.role !== 'operator') return { status: 403, message: API_KEY_VIEWER_ONLY(key.name) };
  return { caller: { name: key.name, role: key.role } };
}
