/** Messages of the admin API's own checks (the engine's are in tasker.messages.ts). */
export const EXPAND_NOT_A_STEP = (name: string, taskId: string) => `expand names "${name}", which is not a step of task ${taskId}`;
