import { Injectable, Logger } from '@nestjs/common';
import { escapeLogText } from '../events/log-text';
import { FieldError, ScheduleNotFoundError, TaskValidationError } from '../errors/service.errors';
import type { ActorInput, ScheduleRef, ScheduleView } from '../interfaces/views.interface';
import { ScheduleRepository, toScheduleView } from '../persistence/schedule.repository';
import { compareVersions } from '../registry/definition-builder';
import { DEFAULT_NAMESPACE } from '../tasker.constants';
import { FIELD_CRON, FIELD_NAMESPACE, FIELD_SCHEDULE_NOT_OBJECT, FIELD_TASK_NAME, INVALID_SCHEDULE, INVALID_SCHEDULE_FILTER, SCHEDULE_CHANGED_LOG } from '../tasker.messages';
import { isValidName } from '../validation/names.validation';
import { actorProblems, hasLoneSurrogate, summarize } from '../validation/request.validation';
import { typeFilterProblems } from '../validation/type-filter.validation';
import { MAX_CRON_LENGTH, normalizeCron } from '../schedules/cron-schedule';

/** The schedules as recorded, and pausing or resuming them (TaskerService's). */
@Injectable()
export class ScheduleCatalog {
  private readonly logger = new Logger('Tasker');

  constructor(private readonly schedules: ScheduleRepository) {}

  async list(filter: { namespace?: string; name?: string }): Promise<ScheduleView[]> {
    const problems = typeFilterProblems(filter);
    if (problems.length) throw new TaskValidationError(INVALID_SCHEDULE_FILTER(summarize(problems)), problems);
    return sortSchedules((await this.schedules.list(filter.namespace, filter.name)).map(toScheduleView));
  }

  async setPaused(ref: ScheduleRef, paused: boolean, by: ActorInput | undefined): Promise<ScheduleView[]> {
    const problems: FieldError[] = actorProblems(by);
    if (ref === null || typeof ref !== 'object') problems.push({ field: 'schedule', messages: [FIELD_SCHEDULE_NOT_OBJECT()] });
    else {
      if (ref.namespace !== undefined && !isValidName(ref.namespace)) problems.push({ field: 'namespace', messages: [FIELD_NAMESPACE()] });
      if (!isValidName(ref.name)) problems.push({ field: 'name', messages: [FIELD_TASK_NAME()] });
      const c = ref.cron as unknown;
      if (typeof c !== 'string' || c.trim() === '' || c.length > MAX_CRON_LENGTH || c.includes('\u0000') || hasLoneSurrogate(c)) {
        problems.push({ field: 'cron', messages: [FIELD_CRON(MAX_CRON_LENGTH)] });
      }
    }
    if (problems.length) throw new TaskValidationError(INVALID_SCHEDULE(summarize(problems)), problems);
    const namespace = ref.namespace ?? DEFAULT_NAMESPACE;
    const cron = normalizeCron(ref.cron);
    const actor = by?.actor ?? null;
    const reason = by?.reason ?? null;
    const ids = await this.schedules.setPaused(namespace, ref.name, cron, paused, actor, reason);
    if (ids.length === 0) throw new ScheduleNotFoundError(namespace, ref.name, cron);
    const views = sortSchedules((await this.schedules.list(namespace, ref.name)).filter((r) => ids.includes(r.id)).map(toScheduleView));
    const types = views.map((v) => `${v.namespace}/${v.name}@${v.version}`);
    this.logger.log(escapeLogText(SCHEDULE_CHANGED_LOG(paused ? 'paused' : 'resumed', cron, types, actor, reason)));
    return views;
  }
}

/** By namespace, name and expression; the highest version first. */
function sortSchedules(views: ScheduleView[]): ScheduleView[] {
  const key = (v: ScheduleView) => [v.namespace, v.name, v.cron];
  return views.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    return compareVersions(b.version, a.version);
  });
}
