// #region workflow
import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';
import { AccountsService, EmailService, WorkspaceService } from './onboarding.services';

export interface OnboardingContext {
  email: string;
}

//                    ┌─► send_welcome_email ──┐
//  create_account ───┤                        ├─► activate_account
//                    └─► provision_workspace ─┘
@TaskHandler({ name: 'user_onboarding', namespace: 'accounts', version: '1.0.0' })
export class OnboardingWorkflow {
  constructor(
    private readonly accounts: AccountsService,
    private readonly email: EmailService,
    private readonly workspaces: WorkspaceService,
  ) {}

  @Step({ name: 'create_account' })
  createAccount(ctx: StepContext<OnboardingContext>) {
    return this.accounts.create(ctx.task.context.email); // the return value is stored as the step's results
  }

  // The flaky one: up to 5 attempts, waiting 1 s, 2 s, 4 s, 8 s between them.
  @Step({ name: 'send_welcome_email', retryLimit: 5, backoff: { baseMs: 1_000 }, timeoutMs: 10_000 })
  @DependsOn('create_account')
  sendWelcomeEmail(ctx: StepContext<OnboardingContext>) {
    return this.email.sendWelcome(ctx.task.context.email);
  }

  // Also depends only on create_account: runs in parallel with send_welcome_email.
  @Step({ name: 'provision_workspace' })
  @DependsOn('create_account')
  provisionWorkspace(ctx: StepContext<OnboardingContext>) {
    const { accountId } = ctx.results['create_account'] as { accountId: string };
    return this.workspaces.provision(accountId);
  }

  // ctx.results holds only the results of the steps named here, so create_account is listed too.
  @Step({ name: 'activate_account' })
  @DependsOn('create_account', 'send_welcome_email', 'provision_workspace')
  activateAccount(ctx: StepContext<OnboardingContext>) {
    const { accountId } = ctx.results['create_account'] as { accountId: string };
    return this.accounts.activate(accountId);
  }
}
// #endregion
