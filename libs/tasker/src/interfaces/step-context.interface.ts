/** What a step method receives (SPEC §2). */
export interface StepContext<C = Record<string, unknown>> {
  task: {
    id: string;
    name: string;
    namespace: string;
    version: string;
    context: C;
    tags: string[];
  };
  step: {
    id: string;
    name: string;
    /** 1 for the first attempt. */
    attempt: number;
    retryLimit: number;
  };
  /** Results of this step's dependencies, by step name. */
  results: Record<string, unknown>;
  /** Aborted on timeout, task cancellation and worker shutdown. */
  signal: AbortSignal;
  /** Extends this attempt's lease now (the worker also renews it while the step runs). */
  heartbeat(): Promise<void>;
}
