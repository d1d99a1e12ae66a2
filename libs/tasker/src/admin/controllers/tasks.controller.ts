import { Body, Controller, Get, HttpCode, Param, Post, Query, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { AuditEntry, TaskDetail, TaskPage, TaskView } from '../../interfaces/views.interface';
import { TaskerService } from '../../tasker.service';
import { ADMIN_PREFIX } from '../admin.constants';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Caller, CurrentCaller } from '../auth/auth.decorators';
import { CreateTaskDto } from '../dto/create-task.dto';
import { ListTasksQuery } from '../dto/list-tasks.query';
import { OperatorActionDto, ResolveStepDto } from '../dto/operator-action.dto';
import { buildGraph, TaskGraph } from '../graph/task-graph';
import { adminValidationPipe } from '../http/admin-validation.pipe';
import { TaskerExceptionFilter } from '../http/tasker-exception.filter';

/** Tasks: create, find, diagnose, recover. Viewers read; operators also act (and are the recorded actor). */
@ApiTags('tasks')
@ApiBearerAuth()
@Controller(`${ADMIN_PREFIX}/tasks`)
@UseGuards(ApiKeyGuard)
@UseFilters(TaskerExceptionFilter)
@UsePipes(adminValidationPipe())
export class TasksController {
  constructor(private readonly tasker: TaskerService) {}

  @Post()
  @ApiCreatedResponse({ description: 'The task (or, with a known idempotencyKey, the existing one).' })
  create(@Body() dto: CreateTaskDto, @CurrentCaller() caller: Caller): Promise<TaskView> {
    const { runAt, ...rest } = dto;
    // The caller is the audit actor whatever the body says; initiator is the business field.
    return this.tasker.createTask(
      { ...rest, initiator: dto.initiator ?? caller.name, ...(runAt ? { runAt: new Date(runAt) } : {}) },
      { actor: caller.name },
    );
  }

  @Get()
  @ApiOkResponse({ description: '{ items, nextCursor }, newest first.' })
  list(@Query() query: ListTasksQuery): Promise<TaskPage> {
    return this.tasker.listTasks(query);
  }

  @Get(':id')
  @ApiOkResponse({ description: 'The task with each step: state, attempts/limit, next retry, last error, results, timings, readiness, dependencies.' })
  get(@Param('id') id: string): Promise<TaskDetail> {
    return this.tasker.getTask(id);
  }

  @Get(':id/audit')
  @ApiOkResponse({ description: 'Every transition of the task and its steps, oldest first.' })
  audit(@Param('id') id: string): Promise<AuditEntry[]> {
    return this.tasker.getAuditTrail(id);
  }

  @Get(':id/graph')
  @ApiOkResponse({ description: '{ nodes, edges, mermaid } with step states.' })
  async graph(@Param('id') id: string): Promise<TaskGraph> {
    const task = await this.tasker.getTask(id);
    return buildGraph(task.steps);
  }

  @Post(':id/retry')
  @HttpCode(200)
  retry(@Param('id') id: string, @Body() dto: OperatorActionDto, @CurrentCaller() caller: Caller): Promise<TaskView> {
    return this.tasker.retryTask(id, { actor: caller.name, reason: dto.reason });
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@Param('id') id: string, @Body() dto: OperatorActionDto, @CurrentCaller() caller: Caller): Promise<TaskView> {
    return this.tasker.cancelTask(id, { actor: caller.name, reason: dto.reason });
  }

  @Post(':id/steps/:stepName/resolve')
  @HttpCode(200)
  resolve(
    @Param('id') id: string,
    @Param('stepName') stepName: string,
    @Body() dto: ResolveStepDto,
    @CurrentCaller() caller: Caller,
  ): Promise<TaskView> {
    return this.tasker.resolveStep(id, stepName, { results: dto.results, actor: caller.name, reason: dto.reason });
  }
}
