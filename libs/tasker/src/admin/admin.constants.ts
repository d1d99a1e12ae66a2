export const TASKER_ADMIN_OPTIONS = Symbol('TASKER_ADMIN_OPTIONS');
export const TASKER_ADMIN_AUTH = Symbol('TASKER_ADMIN_AUTH');
/** Every admin route lives under this prefix. */
export const ADMIN_PREFIX = 'tasker';
/** The bound of each context in `GET /tasker/tasks`: larger ones are listed as `{}` with `contextTruncated`. */
export const LIST_CONTEXT_BYTES = 8 * 1024;
