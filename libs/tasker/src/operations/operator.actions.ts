import { Injectable } from '@nestjs/common';
import { TaskValidationError } from '../errors/service.errors';
import type { ActorInput, BulkResult, BulkTaskFilter, FailureGroup, FailureQuery, PurgeOptions } from '../interfaces/views.interface';
import { BulkAction, BulkActions } from '../orchestration/bulk.actions';
import { TaskPurger } from '../orchestration/task.purger';
import { OperationsRepository } from '../persistence/operations.repository';
import { INVALID_BULK_FILTER, INVALID_FAILURE_QUERY, INVALID_PURGE } from '../tasker.messages';
import { bulkFilterJson, bulkFilterProblems, failureQueryProblems, purgeProblems } from '../validation/operations.validation';
import { actorProblems, summarize } from '../validation/request.validation';

/** What an operator does to many tasks at once: the failures inbox, bulk retry and cancel, purges (TaskerService's). */
@Injectable()
export class OperatorActions {
  constructor(
    private readonly operations: OperationsRepository,
    private readonly bulkActions: BulkActions,
    private readonly purger: TaskPurger,
  ) {}

  async listFailures(query?: FailureQuery): Promise<FailureGroup[]> {
    const problems = failureQueryProblems(query);
    if (problems.length) throw new TaskValidationError(INVALID_FAILURE_QUERY(summarize(problems)), problems);
    const rows = await this.operations.failures(query?.namespace ?? null, query?.name ?? null);
    return rows.map((r) => ({
      namespace: r.namespace,
      name: r.name,
      version: r.version,
      stepName: r.step_name,
      ...(r.code !== null ? { code: r.code } : {}),
      message: r.message,
      count: r.count,
      taskIds: r.task_ids,
      firstAt: r.first_at,
      lastAt: r.last_at,
    }));
  }

  async bulk(action: BulkAction, filter: BulkTaskFilter, by: ActorInput | undefined): Promise<BulkResult> {
    const problems = [...bulkFilterProblems(filter), ...actorProblems(by)];
    if (problems.length) throw new TaskValidationError(INVALID_BULK_FILTER(summarize(problems)), problems);
    return this.bulkActions.run(action, bulkFilterJson(filter), by?.actor ?? null, by?.reason ?? null);
  }

  async purgeTasks(options: PurgeOptions): Promise<BulkResult> {
    const problems = purgeProblems(options);
    if (problems.length) throw new TaskValidationError(INVALID_PURGE(summarize(problems)), problems);
    return { count: await this.purger.purge(options.finishedBefore, options.states) };
  }
}
