// #region controller
import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { TaskerService } from 'nestjs-tasker';

@Controller('signups')
export class OnboardingController {
  constructor(private readonly tasker: TaskerService) {}

  @Post()
  async signUp(@Body() body: { email: string }) {
    const task = await this.tasker.createTask({
      name: 'user_onboarding',
      namespace: 'accounts',
      context: { email: body.email },
      idempotencyKey: `signup-${body.email}`, // a second POST returns the same task
    });
    return { taskId: task.id, state: task.state };
  }

  @Get(':taskId')
  status(@Param('taskId') taskId: string) {
    return this.tasker.getTask(taskId); // state, and each step's state, attempts, results, last error
  }
}
// #endregion
