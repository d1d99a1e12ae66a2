import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { NAME_PATTERN } from '../../tasker.constants';

/** Query of `GET /tasker/handlers`. */
export class HandlersQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'namespace must be a namespace name' })
  namespace?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'name must be a task name' })
  name?: string;
}
