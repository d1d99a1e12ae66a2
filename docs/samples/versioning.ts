import { Injectable, Module } from '@nestjs/common';
import { DependsOn, Step, TaskerService, TaskHandler } from 'nestjs-tasker';
import type { StepContext, TaskView } from 'nestjs-tasker';

type LabelContext = { parcelId: string };

// #region versions
/** The released version: left exactly as it is while tasks created with it may still run. */
@TaskHandler({ name: 'print_label', namespace: 'shipping', version: '1.0.0' })
export class PrintLabelV1 {
  @Step()
  render(ctx: StepContext<LabelContext>) {
    return { file: `${ctx.task.context.parcelId}.pdf` };
  }

  @Step()
  @DependsOn('render')
  send_to_printer(ctx: StepContext<LabelContext>) {
    return { printed: (ctx.results['render'] as { file: string }).file };
  }
}

/** The new version: a new class, a new version number, a changed graph (a customs step in parallel). */
@TaskHandler({ name: 'print_label', namespace: 'shipping', version: '2.0.0' })
export class PrintLabelV2 {
  @Step()
  render(ctx: StepContext<LabelContext>) {
    return { file: `${ctx.task.context.parcelId}-v2.pdf` };
  }

  @Step()
  @DependsOn('render')
  customs_declaration(ctx: StepContext<LabelContext>) {
    return { declaration: `CN23-${ctx.task.context.parcelId}` };
  }

  @Step()
  @DependsOn('render', 'customs_declaration')
  send_to_printer(ctx: StepContext<LabelContext>) {
    return { printed: (ctx.results['render'] as { file: string }).file, with: ctx.results['customs_declaration'] };
  }
}

@Module({ providers: [PrintLabelV1, PrintLabelV2] })
export class LabelsModule {}
// #endregion

// #region pin
@Injectable()
export class Labels {
  constructor(private readonly tasker: TaskerService) {}

  print(parcelId: string): Promise<TaskView> {
    // No version: the highest one any process has registered in the database.
    return this.tasker.createTask({ name: 'print_label', namespace: 'shipping', context: { parcelId } });
  }

  printWithV1(parcelId: string): Promise<TaskView> {
    return this.tasker.createTask({ name: 'print_label', namespace: 'shipping', version: '1.0.0', context: { parcelId } });
  }
}
// #endregion

// #region unfinished
/** Tasks of one version that are not finished yet: when this is empty everywhere, the old handler can go. */
export async function unfinishedTasks(tasker: TaskerService, namespace: string, name: string, version: string): Promise<TaskView[]> {
  const open: TaskView[] = [];
  for (const state of ['pending', 'in_progress', 'error'] as const) {
    let cursor: string | undefined;
    do {
      const page = await tasker.listTasks({ namespace, name, state, limit: 500, cursor });
      open.push(...page.items.filter((t) => t.version === version));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  return open;
}
// #endregion
