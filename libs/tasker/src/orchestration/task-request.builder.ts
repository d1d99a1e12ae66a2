import { Injectable } from '@nestjs/common';
import { TaskValidationError } from '../errors/service.errors';
import type { NewTaskRow } from '../persistence/task.repository';
import { DEFAULT_NAMESPACE } from '../tasker.constants';
import { INVALID_CONTEXT } from '../tasker.messages';
import { contextProblems } from '../validation/context.validation';
import { assertValidRequest, summarize } from '../validation/request.validation';
import { TaskTypeResolver } from './task-type.resolver';

/**
 * Turns a TaskRequest into the row create_tasks inserts: the request checked field by field, its task
 * type found, its context checked by the type's DTO where this process has it. For createTask and for
 * the child tasks that steps start.
 */
@Injectable()
export class TaskRequestBuilder {
  constructor(private readonly types: TaskTypeResolver) {}

  /** `prefix` names the request in field errors (`[3].` in a bulk call). */
  async build(req: unknown, prefix = '', actor?: string): Promise<NewTaskRow> {
    assertValidRequest(req, prefix);
    const type = await this.types.resolve(req.namespace ?? DEFAULT_NAMESPACE, req.name, req.version);
    const context = req.context ?? {};
    if (type.local?.contextDto) {
      const problems = await contextProblems(type.local.contextDto, context, `${prefix}context.`);
      if (problems.length) {
        throw new TaskValidationError(INVALID_CONTEXT(`${type.namespace}/${type.name}@${type.version}`, summarize(problems)), problems);
      }
    }
    return {
      namedTaskId: type.typeId,
      context,
      tags: req.tags ?? [],
      initiator: req.initiator,
      sourceSystem: req.sourceSystem,
      reason: req.reason,
      idempotencyKey: req.idempotencyKey,
      runAt: req.runAt ? new Date(req.runAt).toISOString() : undefined,
      priority: req.priority,
      concurrencyKey: req.concurrencyKey,
      actor,
    };
  }
}
