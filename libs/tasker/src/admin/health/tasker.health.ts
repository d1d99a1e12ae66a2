import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { TaskerService } from '../../tasker.service';

/** Terminus indicator: Postgres answers and every Tasker migration is applied. */
@Injectable()
export class TaskerHealthIndicator {
  constructor(
    private readonly tasker: TaskerService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async isReady(key = 'database') {
    const check = this.indicators.check(key);
    const h = await this.tasker.health();
    if (h.database === 'down') return check.down({ message: 'PostgreSQL is unreachable' });
    if (h.pendingMigrations.length > 0) return check.down({ message: 'migrations pending', pendingMigrations: h.pendingMigrations });
    return check.up();
  }
}
