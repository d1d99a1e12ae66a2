import { Controller, Get, Query, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { TaskTypeView, WorkerView } from '../../interfaces/views.interface';
import { TaskerService } from '../../tasker.service';
import { ADMIN_PREFIX } from '../admin.constants';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { Caller, CurrentCaller } from '../auth/auth.decorators';
import { buildGraph } from '../graph/task-graph';
import { HandlersQuery } from '../dto/handlers.query';
import { adminValidationPipe } from '../http/admin-validation.pipe';
import { TaskerExceptionFilter } from '../http/tasker-exception.filter';

/** What the fleet can run: task types recorded by the workers, the workers alive, and who is asking. */
@ApiTags('handlers')
@ApiBearerAuth()
@Controller(ADMIN_PREFIX)
@UseGuards(ApiKeyGuard)
@UseFilters(TaskerExceptionFilter)
@UsePipes(adminValidationPipe())
export class HandlersController {
  constructor(private readonly tasker: TaskerService) {}

  @Get('handlers')
  @ApiOkResponse({ description: 'Registered task types with their step graphs (known from the database, not from code).' })
  async handlers(@Query() q: HandlersQuery): Promise<(TaskTypeView & { mermaid: string })[]> {
    const types = await this.tasker.listTaskTypes(q);
    return types.map((t) => ({ ...t, mermaid: buildGraph(t.steps).mermaid }));
  }

  @Get('workers')
  @ApiOkResponse({ description: 'Worker processes seen within one lease period.' })
  workers(): Promise<WorkerView[]> {
    return this.tasker.listWorkers();
  }

  @Get('me')
  @ApiOkResponse({ description: 'The caller: API key name and role.' })
  me(@CurrentCaller() caller: Caller): Caller {
    return caller;
  }
}
