// #region module
import { Module } from '@nestjs/common';
import { OnboardingController } from './onboarding.controller';
import { AccountsService, EmailService, WorkspaceService } from './onboarding.services';
import { OnboardingWorkflow } from './onboarding.workflow';

@Module({
  controllers: [OnboardingController],
  providers: [AccountsService, EmailService, WorkspaceService, OnboardingWorkflow],
})
export class OnboardingModule {}
// #endregion
