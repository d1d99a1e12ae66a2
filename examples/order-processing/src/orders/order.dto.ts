import { Type } from 'class-transformer';
import { ArrayNotEmpty, IsInt, IsString, Matches, Min, ValidateNested } from 'class-validator';

export class OrderItem {
  @IsString()
  sku!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

/**
 * The task's context. `createTask` checks it (class-validator) and refuses a bad one with a
 * TaskValidationError listing each field, before anything is written.
 */
export class OrderContext {
  @Matches(/^[A-Z]-\d+$/)
  orderId!: string;

  @IsInt()
  @Min(1)
  amountCents!: number;

  @IsString()
  email!: string;

  @ValidateNested({ each: true })
  @ArrayNotEmpty()
  @Type(() => OrderItem)
  items!: OrderItem[];
}
