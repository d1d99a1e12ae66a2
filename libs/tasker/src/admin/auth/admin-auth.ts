import { TaskerConfigError } from '../../errors/boot.errors';
import { ADMIN_NO_API_KEYS } from '../../tasker.messages';
import type { ApiKey, TaskerAdminOptions } from '../admin-options.interface';
import { parseApiKeys } from './api-keys';

export interface AdminAuth {
  keys: ApiKey[];
  insecure: boolean;
}

/** Resolves the admin API's credentials from options and environment; refuses to run open by accident. */
export function resolveAdminAuth(options: TaskerAdminOptions, env: NodeJS.ProcessEnv = process.env): AdminAuth {
  const keys = parseApiKeys(options.apiKeys ?? env.TASKER_API_KEYS);
  const insecure = options.insecure ?? env.TASKER_INSECURE === 'true';
  if (keys.length === 0 && !insecure) {
    throw new TaskerConfigError(ADMIN_NO_API_KEYS());
  }
  // Configured keys always win: insecure mode only opens an API that has no keys at all.
  return { keys, insecure: insecure && keys.length === 0 };
}
