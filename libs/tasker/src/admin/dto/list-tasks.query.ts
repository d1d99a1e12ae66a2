import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { STATES, TaskState } from '../../state/states';
import { MAX_LIST_LIMIT, NAME_PATTERN } from '../../tasker.constants';


/** Query of `GET /tasker/tasks`. */
export class ListTasksQuery {
  @ApiPropertyOptional({ enum: STATES })
  @IsOptional()
  @IsIn(STATES as unknown as string[])
  state?: TaskState;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'namespace must be a namespace name' })
  namespace?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'name must be a task name' })
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  tag?: string;

  @ApiPropertyOptional({ default: 50, maximum: MAX_LIST_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_LIST_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  cursor?: string;
}
