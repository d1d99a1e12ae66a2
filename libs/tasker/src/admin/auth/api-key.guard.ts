import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TASKER_ADMIN_AUTH } from '../admin.constants';
import type { AdminAuth } from './admin-auth';
import { PUBLIC_ROUTE } from './auth.decorators';
import { authenticate } from './authenticate';

/** `Authorization: Bearer <key>`; viewers may read, operators may also act. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(TASKER_ADMIN_AUTH) private readonly auth: AdminAuth,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest();
    const outcome = authenticate(this.auth, req.headers?.authorization, req.method);
    if ('status' in outcome) {
      // The caller is still known on a 403 (a viewer acting).
      throw outcome.status === 401 ? new UnauthorizedException(outcome.message) : new ForbiddenException(outcome.message);
    }
    req.taskerCaller = outcome.caller;
    return true;
  }
}
