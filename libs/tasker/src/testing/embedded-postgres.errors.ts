import { TaskerError } from '../errors/tasker.error';
import { EMBEDDED_POSTGRES_FAILED, EMBEDDED_POSTGRES_UNREACHABLE, EMBEDDED_POSTGRES_UNSUPPORTED } from '../tasker.messages';
import { EMBEDDED_POSTGRES_INSTALL, EMBEDDED_POSTGRES_RANGE } from './embedded-postgres.preflight';

/** The installed embedded-postgres is a version the testing kit cannot start. */
export class EmbeddedPostgresVersionError extends TaskerError {
  constructor(readonly found: string) {
    super('EMBEDDED_POSTGRES_VERSION', EMBEDDED_POSTGRES_UNSUPPORTED(found, EMBEDDED_POSTGRES_RANGE, EMBEDDED_POSTGRES_INSTALL));
  }
}

/** Running as root, the user embedded-postgres runs the server as cannot reach its binaries or data. */
export class EmbeddedPostgresUnreachableError extends TaskerError {
  constructor(
    readonly path: string,
    readonly blocked: readonly string[],
  ) {
    super('EMBEDDED_POSTGRES_UNREACHABLE', EMBEDDED_POSTGRES_UNREACHABLE(path, blocked));
  }
}

/** The embedded Postgres did not start; the message has the reason and the version found. */
export class EmbeddedPostgresStartError extends TaskerError {
  constructor(
    readonly found: string,
    reason: string,
  ) {
    super('EMBEDDED_POSTGRES_FAILED', EMBEDDED_POSTGRES_FAILED(reason, found, EMBEDDED_POSTGRES_RANGE));
  }
}
