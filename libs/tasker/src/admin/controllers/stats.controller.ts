import { Controller, Get, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { TaskerStats } from '../../interfaces/views.interface';
import { TaskerService } from '../../tasker.service';
import { ADMIN_PREFIX } from '../admin.constants';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { TaskerExceptionFilter } from '../http/tasker-exception.filter';

/** Counts by state (what the dashboard shows above its task list; the same figures as /metrics). */
@ApiTags('handlers')
@ApiBearerAuth()
@Controller(ADMIN_PREFIX)
@UseGuards(ApiKeyGuard)
@UseFilters(TaskerExceptionFilter)
export class StatsController {
  constructor(private readonly tasker: TaskerService) {}

  @Get('stats')
  @ApiOkResponse({ description: '{ tasks, steps } counted by state, held steps by reason, and how many workers are alive.' })
  stats(): Promise<TaskerStats> {
    return this.tasker.stats();
  }
}
