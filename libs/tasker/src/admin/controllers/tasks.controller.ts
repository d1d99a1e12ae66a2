import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post, Query, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import type { AuditEntry, TaskDetail, TaskPage, TaskView } from '../../interfaces/views.interface';
import { TaskerService } from '../../tasker.service';
import { ADMIN_INVALID_REQUEST } from '../../tasker.messages';
import { ADMIN_PREFIX, LIST_CONTEXT_BYTES } from '../admin.constants';
import { EXPAND_NOT_A_STEP } from '../admin.messages';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Caller, CurrentCaller } from '../auth/auth.decorators';
import { CreateTaskDto } from '../dto/create-task.dto';
import { ListTasksQuery } from '../dto/list-tasks.query';
import { GraphQuery } from '../dto/graph.query';
import { OperatorActionDto, ResolveStepDto, SignalDto } from '../dto/operator-action.dto';
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
  @ApiOkResponse({
    description:
      `{ items, nextCursor }, newest first. A context over ${LIST_CONTEXT_BYTES / 1024} KB is listed as {} with contextTruncated: true ` +
      '(GET /tasker/tasks/:id has it whole), so a page stays small whatever the tasks hold. ETag / If-None-Match: 304 when nothing changed.',
  })
  list(@Query() query: ListTasksQuery): Promise<TaskPage> {
    return this.tasker.listTasks({ ...query, maxContextBytes: LIST_CONTEXT_BYTES });
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
  @ApiOkResponse({
    description:
      '{ nodes, edges, mermaid } with step states. A map step is one node with its instance counts (label `resize ×10: 7 done, 2 running, 1 failed`); ' +
      'with ?expand=resize its instances are nodes too, linked from it by edges of kind "instance". Waiting and skipped nodes carry their reason.',
  })
  async graph(@Param('id') id: string, @Query() q: GraphQuery): Promise<TaskGraph> {
    const task = await this.tasker.getTask(id);
    if (q.expand === undefined) return buildGraph(task.steps);
    if (q.expand === '*') return buildGraph(task.steps, { expand: '*' });
    const names = new Set(q.expand.split(','));
    const known = new Set(task.steps.map((s) => s.name));
    const unknown = [...names].filter((n) => !known.has(n));
    if (unknown.length) {
      const messages = unknown.map((n) => EXPAND_NOT_A_STEP(n, task.id));
      throw new BadRequestException({ message: ADMIN_INVALID_REQUEST(messages.join('; ')), details: [{ field: 'expand', messages }] });
    }
    return buildGraph(task.steps, { expand: names });
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
  @ApiParam({ name: 'stepName', description: 'A step, or an instance of a map step: `resize[3]` (URL-encoded `resize%5B3%5D`).' })
  resolve(
    @Param('id') id: string,
    @Param('stepName') stepName: string,
    @Body() dto: ResolveStepDto,
    @CurrentCaller() caller: Caller,
  ): Promise<TaskView> {
    return this.tasker.resolveStep(id, stepName, { results: dto.results, actor: caller.name, reason: dto.reason });
  }

  @Post(':id/signals/:name')
  @HttpCode(200)
  @ApiParam({ name: 'name', description: 'The signal a step waits for with ctx.waitForSignal(name).' })
  @ApiOkResponse({
    description:
      'The task. A step waiting for the signal completes with the payload (the caller is the actor of that completion); ' +
      'sent before any step waits, the signal is kept for the step that will. 409: the task already received this signal, or is finished.',
  })
  signal(@Param('id') id: string, @Param('name') name: string, @Body() dto: SignalDto, @CurrentCaller() caller: Caller): Promise<TaskView> {
    return this.tasker.signal(id, name, dto.payload, { actor: caller.name, reason: dto.reason });
  }
}
