import { Injectable } from '@nestjs/common';
import type { AuditEntry } from './interfaces/views.interface';
import { toAuditEntry } from './persistence/rows';
import { TaskRepository } from './persistence/task.repository';
import { TaskNotFoundError } from './errors/service.errors';

/**
 * The compliance trail. It reads the transition tables, which are written in the same
 * transaction as each change, not the event bus: a process that dies between commit and emit
 * loses an event, never an audit entry.
 */
@Injectable()
export class TaskerAuditService {
  constructor(private readonly tasks: TaskRepository) {}

  /** Every transition of the task and its steps, oldest first. */
  async trail(taskId: string): Promise<AuditEntry[]> {
    const rows = await this.tasks.auditTrail(taskId);
    if (rows.length === 0) throw new TaskNotFoundError(taskId);
    return rows.map(toAuditEntry);
  }

  /** The trail as NDJSON (one JSON object per line), for archiving or a SIEM. */
  async export(taskId: string): Promise<string> {
    const entries = await this.trail(taskId);
    return entries.map((e) => JSON.stringify(e)).join('\n') + '\n';
  }
}
