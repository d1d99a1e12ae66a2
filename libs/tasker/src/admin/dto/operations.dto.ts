import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsDefined, IsIn, IsObject, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { STATES, TaskState } from '../../state/states';
import { MAX_BULK_IDS, NAME_PATTERN } from '../../tasker.constants';
import type { FailureGroup } from '../../interfaces/views.interface';
import { HandlersQuery } from './handlers.query';
import { OperatorActionDto } from './operator-action.dto';

/** Query of `GET /tasker/failures`: the task-type filters of `/handlers`. */
export class ListFailuresQuery extends HandlersQuery {}

/** One group of the failures inbox. */
export class FailureGroupDto implements FailureGroup {
  @ApiProperty({ example: 'fulfillment' }) namespace!: string;
  @ApiProperty({ example: 'order_processing' }) name!: string;
  @ApiProperty({ example: '1.0.0' }) version!: string;
  @ApiProperty({ example: 'validate_payment', description: 'The step that failed for good (a map step for its instances).' }) stepName!: string;
  @ApiPropertyOptional({ example: 'CARD_DECLINED', description: 'The error code, when the errors have one.' }) code?: string;
  @ApiProperty({ example: 'card declined', description: 'The message of the latest failure of the group.' }) message!: string;
  @ApiProperty({ example: 42, description: 'Tasks in this group.' }) count!: number;
  @ApiProperty({ type: [String], description: 'Up to 20 of its tasks, newest first.' }) taskIds!: string[];
  @ApiProperty() firstAt!: Date;
  @ApiProperty() lastAt!: Date;
}

/** Which tasks a bulk action acts on: those matching every field given (at least one). */
export class BulkTaskFilterDto {
  @ApiPropertyOptional({ type: [String], maxItems: MAX_BULK_IDS, example: ['1042', '1043'] })
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BULK_IDS)
  @IsString({ each: true })
  @Matches(/^[1-9]\d{0,18}$/, { each: true, message: 'each of ids must be a task id' })
  ids?: string[];

  @ApiPropertyOptional({ enum: STATES })
  @IsOptional()
  @IsIn(STATES as unknown as string[])
  state?: TaskState;

  @ApiPropertyOptional({ example: 'fulfillment' })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'namespace must be a namespace name' })
  namespace?: string;

  @ApiPropertyOptional({ example: 'order_processing' })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'name must be a task name' })
  name?: string;

  @ApiPropertyOptional({ example: '1.0.0' })
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'version must be a version like "1.0.0"' })
  version?: string;

  @ApiPropertyOptional({ example: 'validate_payment', description: 'Tasks with a step that failed for good at this step.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  stepName?: string;

  @ApiPropertyOptional({ example: 'CARD_DECLINED', description: 'Tasks with a step that failed for good with this error code.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  code?: string;
}

/** Body of `POST /tasker/tasks/retry` and `/cancel`: which tasks, and why (recorded on each task with the caller as actor). */
export class BulkActionDto extends OperatorActionDto {
  @ApiProperty({ type: BulkTaskFilterDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => BulkTaskFilterDto)
  filter!: BulkTaskFilterDto;
}

/** What a bulk action did. */
export class BulkResultDto {
  @ApiProperty({ example: 17, description: 'Tasks retried (or cancelled); tasks whose state did not allow it are not counted.' })
  count!: number;
}
