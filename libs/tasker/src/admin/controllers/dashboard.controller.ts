import { Controller, Get, Redirect, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { randomBytes } from 'node:crypto';
import { ADMIN_PREFIX } from '../admin.constants';
import { Public } from '../auth/auth.decorators';
import { dashboardHtml } from '../dashboard/dashboard.page';

/** The dashboard's CSP: its one inline script runs by the response's nonce, nothing else does. */
export function dashboardCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    "style-src 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The operator dashboard: one static page. It holds no data; it asks for an API key and calls
 * the API with it, so every rule of the API (roles, audit actor) applies to it too.
 */
@ApiExcludeController()
@Controller(ADMIN_PREFIX)
@Public()
export class DashboardController {
  @Get('dashboard')
  page(@Res({ passthrough: true }) res: { setHeader(name: string, value: string): void }): string {
    const nonce = randomBytes(18).toString('base64');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Security-Policy', dashboardCsp(nonce));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    // A nonce is good for one response: a cached page would carry a spent one.
    res.setHeader('Cache-Control', 'no-store');
    return dashboardHtml(nonce);
  }

  @Get()
  @Redirect(`/${ADMIN_PREFIX}/dashboard`, 302)
  root(): void {}
}
