import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { ApiKey } from '../admin-options.interface';

export const PUBLIC_ROUTE = 'tasker:admin:public';

/** The route needs no API key (health probes, the dashboard shell). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** Who calls: the API key's name and role, set by the guard. */
export interface Caller {
  name: string;
  role: ApiKey['role'];
}

export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  return ctx.switchToHttp().getRequest().taskerCaller;
});
