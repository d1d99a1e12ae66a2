import { Module } from '@nestjs/common';
import { AnalyticsPipelineHandler } from './analytics-pipeline.handler';
import { OutputsService, SourcesService } from './sources.service';

/** The workflow and its services; the app root brings TaskerModule (tests bring the testing kit). */
@Module({
  providers: [SourcesService, OutputsService, AnalyticsPipelineHandler],
  exports: [OutputsService],
})
export class PipelineModule {}
