/** Turns `@TaskHandler({ schedules })` into validated ScheduleDefinitions. No Nest, no database. */
import { HandlerDefinitionError } from '../errors/boot.errors';
import { HandlerDefinition, handlerKey, ScheduleDefinition } from './handler-definition';
import {
  HANDLER_INVALID,
  SCHEDULE_AT,
  SCHEDULE_CONTEXT_INVALID,
  SCHEDULE_CONTEXT_REJECTED,
  SCHEDULE_CRON_INVALID,
  SCHEDULE_DUPLICATE,
  SCHEDULE_NOT_OBJECT,
  SCHEDULE_OPTION_UNKNOWN,
  SCHEDULE_TIMEZONE_INVALID,
  SCHEDULES_NOT_ARRAY,
  FIELD_NOT_JSON_OBJECT,
} from '../tasker.messages';
import { contextProblems } from '../validation/context.validation';
import { jsonProblems, LIMITS, summarize } from '../validation/request.validation';
import { cronProblem, DEFAULT_SCHEDULE_TIMEZONE, normalizeCron } from '../schedules/cron-schedule';

const OPTIONS = ['cron', 'timezone', 'context'];

/**
 * The schedules of a handler, each checked: the expression (5 or 6 fields, that fires at all), the
 * time zone, the context (a JSON object), no expression twice. Problems are appended to `problems`
 * (the handler's other problems are reported with them); what is valid is returned.
 */
export function scheduleDefinitions(raw: unknown, problems: string[]): ScheduleDefinition[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    problems.push(SCHEDULES_NOT_ARRAY());
    return [];
  }
  const out: ScheduleDefinition[] = [];
  const seen = new Set<string>();
  raw.forEach((s: unknown, i) => {
    if (typeof s !== 'object' || s === null || Array.isArray(s)) {
      problems.push(SCHEDULE_NOT_OBJECT(SCHEDULE_AT(i, undefined)));
      return;
    }
    const o = s as Record<string, unknown>;
    const at = SCHEDULE_AT(i, o.cron);
    const before = problems.length;
    for (const key of Object.keys(o)) if (!OPTIONS.includes(key)) problems.push(SCHEDULE_OPTION_UNKNOWN(at, key));
    const bad = cronProblem(o.cron, o.timezone);
    if (bad?.field === 'cron') problems.push(SCHEDULE_CRON_INVALID(at, o.cron, bad.reason));
    if (bad?.field === 'timezone') problems.push(SCHEDULE_TIMEZONE_INVALID(at, bad.reason));
    const context = o.context ?? {};
    if (typeof context !== 'object' || context === null || Array.isArray(context)) problems.push(SCHEDULE_CONTEXT_INVALID(at, [FIELD_NOT_JSON_OBJECT()]));
    else {
      const p = jsonProblems(context, LIMITS.contextBytes);
      if (p.length) problems.push(SCHEDULE_CONTEXT_INVALID(at, p));
    }
    const cron = typeof o.cron === 'string' ? normalizeCron(o.cron) : undefined;
    if (cron !== undefined && bad?.field !== 'cron') {
      if (seen.has(cron)) problems.push(SCHEDULE_DUPLICATE(at));
      seen.add(cron);
    }
    if (problems.length > before || cron === undefined) return;
    out.push({ cron, timezone: (o.timezone as string | undefined) ?? DEFAULT_SCHEDULE_TIMEZONE, context: context as Record<string, unknown> });
  });
  return out;
}

/**
 * Checks each schedule's context against its handler's context DTO (class-validator, so at boot
 * before anything runs, not at the first tick): a context the DTO refuses fails the boot like any
 * other definition problem.
 */
export async function assertScheduleContexts(handlers: readonly HandlerDefinition[]): Promise<void> {
  for (const h of handlers) {
    if (!h.contextDto || !h.schedules?.length) continue;
    const problems: string[] = [];
    for (const [i, s] of h.schedules.entries()) {
      const errors = await contextProblems(h.contextDto, s.context);
      if (errors.length) problems.push(SCHEDULE_CONTEXT_REJECTED(SCHEDULE_AT(i, s.cron), summarize(errors)));
    }
    if (problems.length) {
      const className = (h.instance?.constructor as { name?: string } | undefined)?.name ?? h.name;
      throw new HandlerDefinitionError(HANDLER_INVALID(className, handlerKey(h.namespace, h.name, h.version), problems));
    }
  }
}
