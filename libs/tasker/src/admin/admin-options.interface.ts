/** A credential of the admin API: who (recorded as the actor) and what they may do. */
export interface ApiKey {
  name: string;
  role: 'viewer' | 'operator';
  secret: string;
}

/** Options of `TaskerAdminModule.forRoot`. */
export interface TaskerAdminOptions {
  /**
   * API keys, as `name:role:secret` entries separated by commas (the format of the
   * `TASKER_API_KEYS` variable, its default) or as objects.
   */
  apiKeys?: string | ApiKey[];
  /**
   * Serve the API without authentication (every caller is an operator named `anonymous`).
   * For local development only; default `TASKER_INSECURE=true` in the environment, else false.
   */
  insecure?: boolean;
}
