import { Body, Controller, HttpCode, Post, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { BulkResult } from '../../interfaces/views.interface';
import { TaskerService } from '../../tasker.service';
import { ADMIN_PREFIX } from '../admin.constants';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Caller, CurrentCaller } from '../auth/auth.decorators';
import { BulkActionDto, BulkResultDto } from '../dto/operations.dto';
import { adminValidationPipe } from '../http/admin-validation.pipe';
import { TaskerExceptionFilter } from '../http/tasker-exception.filter';

/**
 * Bulk retry and cancel (operators only; the caller is recorded as the actor on every task). Its
 * routes have one segment after /tasks, those of a single task (`/tasks/:id/retry`) two: neither
 * captures the other.
 */
@ApiTags('tasks')
@ApiBearerAuth()
@Controller(`${ADMIN_PREFIX}/tasks`)
@UseGuards(ApiKeyGuard)
@UseFilters(TaskerExceptionFilter)
@UsePipes(adminValidationPipe())
export class BulkActionsController {
  constructor(private readonly tasker: TaskerService) {}

  @Post('retry')
  @HttpCode(200)
  @ApiOkResponse({ type: BulkResultDto, description: 'How many tasks in error matching the filter were retried (in batches).' })
  @ApiBadRequestResponse({ description: 'An empty or malformed filter.' })
  @ApiForbiddenResponse({ description: 'A viewer key.' })
  retry(@Body() dto: BulkActionDto, @CurrentCaller() caller: Caller): Promise<BulkResult> {
    return this.tasker.retryTasks(dto.filter, { actor: caller.name, reason: dto.reason });
  }

  @Post('cancel')
  @HttpCode(200)
  @ApiOkResponse({ type: BulkResultDto, description: 'How many unfinished tasks matching the filter were cancelled (in batches).' })
  @ApiBadRequestResponse({ description: 'An empty or malformed filter.' })
  @ApiForbiddenResponse({ description: 'A viewer key.' })
  cancel(@Body() dto: BulkActionDto, @CurrentCaller() caller: Caller): Promise<BulkResult> {
    return this.tasker.cancelTasks(dto.filter, { actor: caller.name, reason: dto.reason });
  }
}
