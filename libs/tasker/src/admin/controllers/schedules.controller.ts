import { Body, Controller, Get, HttpCode, Post, Query, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { ScheduleView } from '../../interfaces/views.interface';
import { TaskerService } from '../../tasker.service';
import { ADMIN_PREFIX } from '../admin.constants';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Caller, CurrentCaller } from '../auth/auth.decorators';
import { ListSchedulesQuery, ScheduleActionDto } from '../dto/schedule.dto';
import { adminValidationPipe } from '../http/admin-validation.pipe';
import { TaskerExceptionFilter } from '../http/tasker-exception.filter';

/** Cron schedules: viewers list them; operators pause and resume them (and are recorded as who did). */
@ApiTags('schedules')
@ApiBearerAuth()
@Controller(`${ADMIN_PREFIX}/schedules`)
@UseGuards(ApiKeyGuard)
@UseFilters(TaskerExceptionFilter)
@UsePipes(adminValidationPipe())
export class SchedulesController {
  constructor(private readonly tasker: TaskerService) {}

  @Get()
  @ApiOkResponse({
    description:
      'Every schedule of every task type version (@TaskHandler({ schedules })): cron, timezone, context, nextRunAt (null while paused), ' +
      'lastRunAt, lastTaskId, paused, lastChange (the last pause or resume: action, actor, reason, at), lastError, declaredAt.',
  })
  list(@Query() q: ListSchedulesQuery): Promise<ScheduleView[]> {
    return this.tasker.listSchedules(q);
  }

  @Post('pause')
  @HttpCode(200)
  @ApiOkResponse({ description: 'The schedules paused: the expression in every version of the task that declares it. Pausing a paused schedule changes nothing.' })
  @ApiNotFoundResponse({ description: 'No schedule with this expression for this task.' })
  pause(@Body() dto: ScheduleActionDto, @CurrentCaller() caller: Caller): Promise<ScheduleView[]> {
    return this.tasker.pauseSchedule({ namespace: dto.namespace, name: dto.name, cron: dto.cron }, { actor: caller.name, reason: dto.reason });
  }

  @Post('resume')
  @HttpCode(200)
  @ApiOkResponse({ description: 'The schedules resumed: their next task is for the first tick after now (ticks missed while paused are not run).' })
  @ApiNotFoundResponse({ description: 'No schedule with this expression for this task.' })
  resume(@Body() dto: ScheduleActionDto, @CurrentCaller() caller: Caller): Promise<ScheduleView[]> {
    return this.tasker.resumeSchedule({ namespace: dto.namespace, name: dto.name, cron: dto.cron }, { actor: caller.name, reason: dto.reason });
  }
}
