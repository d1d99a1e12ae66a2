import { Injectable } from '@nestjs/common';

export interface Order {
  id: string;
  userId: string;
  productId: string;
  quantity: number;
}
export interface User {
  id: string;
  segment: 'retail' | 'business';
}
export interface Product {
  id: string;
  category: string;
  priceCents: number;
}

/**
 * The three sources the pipeline extracts from. In a real app these are a database, a CRM and a
 * catalogue API; here they are fixed data so that every result is exact.
 */
@Injectable()
export class SourcesService {
  async orders(day: string): Promise<Order[]> {
    void day;
    return [
      { id: 'o1', userId: 'u1', productId: 'p1', quantity: 2 },
      { id: 'o2', userId: 'u2', productId: 'p2', quantity: 1 },
      { id: 'o3', userId: 'u1', productId: 'p3', quantity: 4 },
      { id: 'o4', userId: 'u3', productId: 'p1', quantity: 1 },
    ];
  }

  async users(): Promise<User[]> {
    return [
      { id: 'u1', segment: 'retail' },
      { id: 'u2', segment: 'business' },
      { id: 'u3', segment: 'retail' },
    ];
  }

  async products(): Promise<Product[]> {
    return [
      { id: 'p1', category: 'books', priceCents: 1_500 },
      { id: 'p2', category: 'games', priceCents: 6_000 },
      { id: 'p3', category: 'books', priceCents: 500 },
    ];
  }
}

/** Where the pipeline's output goes: the dashboard's tiles and the notifications sent. */
@Injectable()
export class OutputsService {
  readonly dashboard = new Map<string, unknown>();
  readonly notifications: { to: string; text: string }[] = [];
}
