import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { JsonAsSent } from './json-as-sent.decorator';

/** Body of retry and cancel: why (recorded in the audit trail with the caller as actor). */
export class OperatorActionDto {
  @ApiPropertyOptional({ example: 'payment provider fixed' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}

/** Body of resolve: the results the step's dependents will see, and why. */
export class ResolveStepDto extends OperatorActionDto {
  @ApiPropertyOptional({ description: 'Any JSON value; stored as the step results.' })
  @IsOptional()
  @JsonAsSent()
  results?: unknown;
}

/** Body of a signal: the payload the waiting step completes with, and why. */
export class SignalDto extends OperatorActionDto {
  @ApiPropertyOptional({ description: 'Any JSON value; the waiting step completes with it as its results (default null).', example: { approvedBy: 'alice' } })
  @IsOptional()
  @JsonAsSent()
  payload?: unknown;
}
