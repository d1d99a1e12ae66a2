import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { MAX_CRON_LENGTH } from '../../schedules/cron-schedule';
import { NAME_PATTERN } from '../../tasker.constants';

const NAME_MESSAGE = '$property must be 1-128 letters, digits, "_", ".", ":" or "-"';

/** Query of `GET /tasker/schedules`. */
export class ListSchedulesQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'namespace must be a namespace name' })
  namespace?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(NAME_PATTERN, { message: 'name must be a task name' })
  name?: string;
}

/** Body of `POST /tasker/schedules/pause` and `/resume`: the schedule (every version's with this expression), and why. */
export class ScheduleActionDto {
  @ApiPropertyOptional({ example: 'reports', default: 'default' })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  namespace?: string;

  @ApiProperty({ example: 'nightly_report' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name!: string;

  @ApiProperty({ example: '0 2 * * *', description: 'The cron expression as declared (as GET /tasker/schedules shows it).' })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_CRON_LENGTH)
  cron!: string;

  @ApiPropertyOptional({ example: 'warehouse closed for inventory' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}
