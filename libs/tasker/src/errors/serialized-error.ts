/**
 * An error as stored with a failed attempt: a step's `lastError` and the `error` of its audit
 * entries (`StepView.lastError`). The lease sweep stores `{ name: 'LeaseExpiredError', code: 'LEASE_EXPIRED' }`.
 */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}
