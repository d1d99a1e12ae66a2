import { Injectable } from '@nestjs/common';
import type { StepContext } from 'nestjs-tasker';

export interface RefundContext {
  refundId: string;
  amountCents: number;
}

/** Records which task type (namespace, version) ran which step, so tests can see who did what. */
@Injectable()
export class RefundLedger {
  readonly entries: { taskId: string; type: string; step: string }[] = [];

  record(ctx: StepContext<RefundContext>): { by: string; refundId: string } {
    const type = `${ctx.task.namespace}/${ctx.task.name}@${ctx.task.version}`;
    this.entries.push({ taskId: ctx.task.id, type, step: ctx.step.name });
    return { by: type, refundId: ctx.task.context.refundId };
  }

  stepsOf(taskId: string): string[] {
    return this.entries.filter((e) => e.taskId === taskId).map((e) => `${e.type} ${e.step}`);
  }
}
