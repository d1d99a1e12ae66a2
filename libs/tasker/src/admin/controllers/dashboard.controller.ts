import { Controller, Get, Header, Redirect } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ADMIN_PREFIX } from '../admin.constants';
import { Public } from '../auth/auth.decorators';
import { DASHBOARD_HTML } from '../dashboard/dashboard.page';

/**
 * The operator dashboard: one static page. It holds no data; it asks for an API key and calls
 * the API with it, so every rule of the API (roles, audit actor) applies to it too.
 */
@ApiExcludeController()
@Controller(ADMIN_PREFIX)
@Public()
export class DashboardController {
  @Get('dashboard')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
  @Header('X-Content-Type-Options', 'nosniff')
  page(): string {
    return DASHBOARD_HTML;
  }

  @Get()
  @Redirect(`/${ADMIN_PREFIX}/dashboard`, 302)
  root(): void {}
}
