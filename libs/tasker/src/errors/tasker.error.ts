/** Base of every error Tasker throws; `code` is stable and safe to branch on. */
export class TaskerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
