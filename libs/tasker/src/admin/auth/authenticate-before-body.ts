import type { INestApplication } from '@nestjs/common';
import { ADMIN_PREFIX, TASKER_ADMIN_AUTH } from '../admin.constants';
import { setAdminHeaders } from '../http/admin-headers.middleware';
import { errorBody } from '../http/error-body';
import type { AdminAuth } from './admin-auth';
import { authenticate } from './authenticate';

interface Req {
  method: string;
  headers: Record<string, string | string[] | undefined>;
}
interface Res {
  setHeader(name: string, value: string): void;
  status(code: number): { json(body: unknown): void };
}

/**
 * Refuses a request with a body (401, or 403 for a viewer acting) before a byte of the body is read,
 * so an anonymous caller cannot make the server parse a large body. Call it before registering the
 * body parser (create the app with `{ bodyParser: false }`, call this, then `app.useBodyParser(...)`).
 * Requests without a body are left to the routes' guard, which also knows the open routes.
 */
export function authenticateBeforeBody(app: INestApplication, prefix = `/${ADMIN_PREFIX}`): void {
  const auth = app.get<AdminAuth>(TASKER_ADMIN_AUTH, { strict: false });
  app.use(prefix, (req: Req, res: Res, next: () => void) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody) return next();
    const outcome = authenticate(auth, req.headers.authorization, req.method);
    if ('caller' in outcome) return next();
    setAdminHeaders(res);
    // The unread body is not drained: the connection closes after this answer.
    res.setHeader('Connection', 'close');
    res.status(outcome.status).json(errorBody(outcome.status, outcome.message));
  });
}
