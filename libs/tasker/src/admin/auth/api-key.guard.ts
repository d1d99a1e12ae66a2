import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { API_KEY_UNKNOWN, API_KEY_VIEWER_ONLY, AUTH_HEADER_MISSING } from '../../tasker.messages';
import { TASKER_ADMIN_AUTH } from '../admin.constants';
import type { AdminAuth } from './admin-auth';
import { PUBLIC_ROUTE } from './auth.decorators';
import { bearerToken, findApiKey } from './api-keys';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

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
    if (this.auth.insecure) {
      req.taskerCaller = { name: 'anonymous', role: 'operator' };
      return true;
    }
    const token = bearerToken(req.headers?.authorization);
    if (!token) throw new UnauthorizedException(AUTH_HEADER_MISSING());
    const key = findApiKey(this.auth.keys, token);
    if (!key) throw new UnauthorizedException(API_KEY_UNKNOWN());
    req.taskerCaller = { name: key.name, role: key.role };
    if (!READ_METHODS.has(req.method) && key.role !== 'operator') {
      throw new ForbiddenException(API_KEY_VIEWER_ONLY(key.name));
    }
    return true;
  }
}
