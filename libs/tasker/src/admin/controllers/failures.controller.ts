import { Controller, Get, Query, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FailureGroup } from '../../interfaces/views.interface';
import { TaskerService } from '../../tasker.service';
import { ADMIN_PREFIX } from '../admin.constants';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { FailureGroupDto, ListFailuresQuery } from '../dto/operations.dto';
import { adminValidationPipe } from '../http/admin-validation.pipe';
import { TaskerExceptionFilter } from '../http/tasker-exception.filter';

/** The failures inbox: tasks in error, grouped by how they failed. Viewers and operators read it. */
@ApiTags('failures')
@ApiBearerAuth()
@Controller(`${ADMIN_PREFIX}/failures`)
@UseGuards(ApiKeyGuard)
@UseFilters(TaskerExceptionFilter)
@UsePipes(adminValidationPipe())
export class FailuresController {
  constructor(private readonly tasker: TaskerService) {}

  @Get()
  @ApiOkResponse({
    type: [FailureGroupDto],
    description:
      'Tasks in error grouped by namespace, name, version, step and error code (or message without a code), the largest groups first; ' +
      'each with its count, up to 20 task ids (newest first) and its first and latest failure.',
  })
  list(@Query() q: ListFailuresQuery): Promise<FailureGroup[]> {
    return this.tasker.listFailures({ namespace: q.namespace, name: q.name });
  }
}
