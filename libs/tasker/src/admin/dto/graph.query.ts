import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { NAME_PATTERN } from '../../tasker.constants';

const NAME = NAME_PATTERN.source.replace(/^\^|\$$/g, '');

/** Query of `GET /tasker/tasks/:id/graph`. */
export class GraphQuery {
  @ApiPropertyOptional({
    description: 'Map steps whose instances become nodes (comma-separated step names, or * for every map step). By default a map step is one node with its instance counts.',
    example: 'resize',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @Matches(new RegExp(`^(?:\\*|${NAME}(?:,${NAME})*)$`), { message: 'expand must be * or step names separated by commas' })
  expand?: string;
}
