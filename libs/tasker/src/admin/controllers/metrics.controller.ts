import { Controller, Get, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ADMIN_PREFIX } from '../admin.constants';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { TaskerExceptionFilter } from '../http/tasker-exception.filter';
import { TaskerMetrics } from '../metrics/tasker-metrics.service';

/** Prometheus scrape endpoint (needs a key: Prometheus sends it with `authorization: { credentials }`). */
@ApiTags('metrics')
@ApiBearerAuth()
@Controller(ADMIN_PREFIX)
@UseGuards(ApiKeyGuard)
@UseFilters(TaskerExceptionFilter)
export class MetricsController {
  constructor(private readonly metrics: TaskerMetrics) {}

  @Get('metrics')
  @ApiProduces('text/plain')
  async scrape(@Res() res: { setHeader(k: string, v: string): void; send(body: string): void }): Promise<void> {
    const body = await this.metrics.scrape();
    res.setHeader('Content-Type', this.metrics.contentType);
    res.send(body);
  }
}
