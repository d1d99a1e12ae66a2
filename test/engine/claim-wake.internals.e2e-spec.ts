// Internals: calls claim_steps itself, to read the wake time it answers when it claims nothing.
import { Step, TaskHandler } from 'nestjs-tasker';
import { engineSchema } from '../support/engine-schema';

@TaskHandler({ name: 'later', namespace: 'wake', version: '1' })
class Later {
  @Step()
  run() {}
}

@TaskHandler({ name: 'metered', namespace: 'wake', version: '1' })
class Metered {
  @Step({ rateLimit: { bucket: 'wake-test', limit: 1, periodMs: 60_000 } })
  run() {}
}

@TaskHandler({ name: 'idle', namespace: 'wake', version: '1' })
class Idle {
  @Step()
  run() {}
}

interface ClaimAnswer {
  step_id: string | null;
  wake_at: string | null;
}

/**
 * A worker sets a timer for the wake time a claim answers (a rate limit's delay, a retry). Woken
 * a moment before the step's time (timers, and timestamps cut to milliseconds, allow it), its claim
 * finds nothing: that claim must answer when the first step becomes ready, or the worker waits for
 * its next poll. Measured before: rate-limited steps lost up to a second per window that way.
 */
describe('claim_steps: the wake time of a claim that finds nothing', () => {
  const db = engineSchema('wake', [Later, Metered, Idle]);
  const { s } = db;

  async function claim(name: string): Promise<ClaimAnswer[]> {
    const { rows } = await db.client.query<ClaimAnswer>(
      `SELECT (c.claim).step_id::text AS step_id, c.wake_at::text AS wake_at
         FROM ${s}.claim_steps('worker:wake-test', ARRAY(SELECT id FROM ${s}.named_tasks WHERE name = $1), 10, 30000, 0, 10000) c`,
      [name],
    );
    return rows;
  }

  const availableAt = async (taskId: string) =>
    (await db.client.query<{ at: string }>(`SELECT available_at::text AS at FROM ${s}.workflow_steps WHERE task_id = $1`, [taskId])).rows[0].at;

  it('answers the run_at of a task not due yet', async () => {
    const task = await db.api.tasker.createTask({ namespace: 'wake', name: 'later', runAt: new Date(Date.now() + 60_000) });
    expect(await claim('later')).toEqual([{ step_id: null, wake_at: await availableAt(task.id) }]);
  });

  it('answers the time a rate limit delayed a step to, when asked again before it', async () => {
    const [first, second] = await Promise.all([0, 1].map(() => db.api.tasker.createTask({ namespace: 'wake', name: 'metered' })));
    // The first claim starts one step and delays the other to when the window frees (in a minute).
    const answer = await claim('metered');
    expect(answer.filter((r) => r.step_id !== null)).toHaveLength(1);
    const delayed = answer[0].step_id === null ? answer[0].wake_at : null;
    expect(delayed).not.toBeNull();
    const waiting = (await db.api.tasker.getTask(first.id))!.steps[0].state === 'pending' ? first : second;
    expect(await availableAt(waiting.id)).toBe(delayed);
    // Asked again before that time (the early wake-up): nothing to claim, and the same wake time.
    expect(await claim('metered')).toEqual([{ step_id: null, wake_at: delayed }]);
  });

  it('answers nothing at all when no step of these types is waiting for a time', async () => {
    expect(await claim('idle')).toEqual([]);
    await db.api.tasker.createTask({ namespace: 'wake', name: 'idle' });
    const taken = await claim('idle');
    expect(taken).toHaveLength(1);
    expect(taken[0].step_id).not.toBeNull();
    expect(await claim('idle')).toEqual([]);
  });
});
