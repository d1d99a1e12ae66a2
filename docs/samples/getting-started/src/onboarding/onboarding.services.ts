// #region services
import { Injectable } from '@nestjs/common';

@Injectable()
export class AccountsService {
  async create(email: string): Promise<{ accountId: string }> {
    return { accountId: `acc_${email.split('@')[0]}` }; // your database insert goes here
  }

  async activate(accountId: string): Promise<{ accountId: string; active: true }> {
    return { accountId, active: true };
  }
}

@Injectable()
export class EmailService {
  /** Calls an e-mail provider: the flaky part of this workflow. */
  async sendWelcome(email: string): Promise<{ messageId: string }> {
    return { messageId: `msg_${email}` };
  }
}

@Injectable()
export class WorkspaceService {
  async provision(accountId: string): Promise<{ workspaceId: string }> {
    return { workspaceId: `ws_${accountId}` };
  }
}
// #endregion
