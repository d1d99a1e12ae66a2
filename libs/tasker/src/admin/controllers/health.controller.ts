import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { ADMIN_PREFIX } from '../admin.constants';
import { Public } from '../auth/auth.decorators';
import { TaskerHealthIndicator } from '../health/tasker.health';

/** Open probes (no key): live = the process answers; ready = database reachable and migrated. */
@ApiTags('health')
@Controller(`${ADMIN_PREFIX}/health`)
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly tasker: TaskerHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.tasker.isReady()]);
  }
}
