import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { TaskerModuleOptions } from './interfaces/tasker-options.interface';

/** forRoot / forRootAsync, generated the Nest way; the module is global by default. */
export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: TASKER_MODULE_OPTIONS, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<TaskerModuleOptions>({ moduleName: 'Tasker' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
