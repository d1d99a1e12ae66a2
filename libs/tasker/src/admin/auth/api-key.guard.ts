import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
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
    if (!token) throw new UnauthorizedException('Missing or malformed Authorization header: send "Authorization: Bearer <api key>".');
    const key = findApiKey(this.auth.keys, token);
    if (!key) throw new UnauthorizedException('Invalid API key.');
    req.taskerCaller = { name: key.name, role: key.role };
    if (!READ_METHODS.has(req.method) && key.role !== 'operator') {
      throw new ForbiddenException(`API key "${key.name}" has the viewer role; this action needs an operator key.`);
    }
    return true;
  }
}
