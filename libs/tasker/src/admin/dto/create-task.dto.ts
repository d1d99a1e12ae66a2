import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { NAME_PATTERN } from '../../tasker.constants';
import { JsonAsSent } from './json-as-sent.decorator';
import { ArrayMaxSize, IsArray, IsInt, IsISO8601, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

const NAME_MESSAGE = '$property must be 1-128 letters, digits, "_", ".", ":" or "-"';

/** Body of `POST /tasker/tasks` (a TaskRequest). */
export class CreateTaskDto {
  @ApiProperty({ example: 'order_processing' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name!: string;

  @ApiPropertyOptional({ example: 'fulfillment', default: 'default' })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  namespace?: string;

  @ApiPropertyOptional({ example: '1.0.0', description: 'Default: the highest registered version.' })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  version?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { orderId: 'A-1' } })
  @IsOptional()
  @IsObject()
  @JsonAsSent()
  context?: Record<string, unknown>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  initiator?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  sourceSystem?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(100, { each: true })
  tags?: string[];

  @ApiPropertyOptional({ description: 'Same key (per namespace and name) returns the existing task.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  idempotencyKey?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Delayed start.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  runAt?: string;

  @ApiPropertyOptional({ minimum: -100, maximum: 100, default: 0, description: 'Higher-priority tasks are claimed first.' })
  @IsOptional()
  @IsInt()
  @Min(-100)
  @Max(100)
  priority?: number;

  @ApiPropertyOptional({ description: "The value of the task type's concurrency key for this task (overrides the one read from its context)." })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  concurrencyKey?: string;
}
