import { DependsOn, Step, TaskHandler } from 'nestjs-tasker';
import type { StepContext } from 'nestjs-tasker';
import { Order, OutputsService, Product, SourcesService, User } from './sources.service';

export interface PipelineContext {
  day: string;
  recipients: string[];
}

export interface SalesSummary {
  revenueByCategory: Record<string, number>;
  totalRevenueCents: number;
  orderCount: number;
}
export interface CustomerSummary {
  ordersBySegment: Record<string, number>;
  activeCustomers: number;
}
export interface Insights {
  topCategory: string;
  averageOrderValueCents: number;
  revenuePerCustomerCents: number;
  ordersBySegment: Record<string, number>;
}

/**
 * Fan-out and fan-in:
 *
 *   extract_orders, extract_users, extract_products   no dependencies: they run in parallel
 *   transform_sales      ← extract_orders, extract_products
 *   transform_customers  ← extract_users, extract_orders
 *   generate_insights    ← transform_sales, transform_customers
 *   update_dashboard     ← generate_insights
 *   send_notifications   ← update_dashboard
 *
 * Each transform starts as soon as its own inputs are done; generate_insights waits for both.
 */
@TaskHandler({ name: 'customer_analytics', namespace: 'data', version: '1.0.0', description: 'Daily sales and customer insights' })
export class AnalyticsPipelineHandler {
  constructor(
    private readonly sources: SourcesService,
    private readonly outputs: OutputsService,
  ) {}

  @Step({ name: 'extract_orders', retryLimit: 5, timeoutMs: 60_000 })
  extractOrders(ctx: StepContext<PipelineContext>): Promise<Order[]> {
    return this.sources.orders(ctx.task.context.day);
  }

  @Step({ name: 'extract_users', retryLimit: 5, timeoutMs: 60_000 })
  extractUsers(): Promise<User[]> {
    return this.sources.users();
  }

  @Step({ name: 'extract_products', retryLimit: 5, timeoutMs: 60_000 })
  extractProducts(): Promise<Product[]> {
    return this.sources.products();
  }

  @Step({ name: 'transform_sales' })
  @DependsOn('extract_orders', 'extract_products')
  transformSales(ctx: StepContext<PipelineContext>): SalesSummary {
    const orders = ctx.results['extract_orders'] as Order[];
    const products = new Map((ctx.results['extract_products'] as Product[]).map((p) => [p.id, p]));
    const revenueByCategory: Record<string, number> = {};
    for (const o of orders) {
      const p = products.get(o.productId)!;
      revenueByCategory[p.category] = (revenueByCategory[p.category] ?? 0) + p.priceCents * o.quantity;
    }
    const totalRevenueCents = Object.values(revenueByCategory).reduce((a, b) => a + b, 0);
    return { revenueByCategory, totalRevenueCents, orderCount: orders.length };
  }

  @Step({ name: 'transform_customers' })
  @DependsOn('extract_users', 'extract_orders')
  transformCustomers(ctx: StepContext<PipelineContext>): CustomerSummary {
    const orders = ctx.results['extract_orders'] as Order[];
    const segments = new Map((ctx.results['extract_users'] as User[]).map((u) => [u.id, u.segment]));
    const ordersBySegment: Record<string, number> = {};
    for (const o of orders) {
      const segment = segments.get(o.userId) ?? 'unknown';
      ordersBySegment[segment] = (ordersBySegment[segment] ?? 0) + 1;
    }
    return { ordersBySegment, activeCustomers: new Set(orders.map((o) => o.userId)).size };
  }

  @Step({ name: 'generate_insights' })
  @DependsOn('transform_sales', 'transform_customers')
  generateInsights(ctx: StepContext<PipelineContext>): Insights {
    const sales = ctx.results['transform_sales'] as SalesSummary;
    const customers = ctx.results['transform_customers'] as CustomerSummary;
    const [topCategory] = Object.entries(sales.revenueByCategory).sort((a, b) => b[1] - a[1])[0];
    return {
      topCategory,
      averageOrderValueCents: Math.round(sales.totalRevenueCents / sales.orderCount),
      revenuePerCustomerCents: Math.round(sales.totalRevenueCents / customers.activeCustomers),
      ordersBySegment: customers.ordersBySegment,
    };
  }

  @Step({ name: 'update_dashboard', retryLimit: 5 })
  @DependsOn('generate_insights')
  updateDashboard(ctx: StepContext<PipelineContext>) {
    const insights = ctx.results['generate_insights'] as Insights;
    // Writing the same tiles again is harmless: a retried step must be safe to repeat.
    this.outputs.dashboard.set(`${ctx.task.context.day}:insights`, insights);
    return { tiles: [`${ctx.task.context.day}:insights`] };
  }

  @Step({ name: 'send_notifications', retryLimit: 5 })
  @DependsOn('update_dashboard')
  sendNotifications(ctx: StepContext<PipelineContext>) {
    const { day, recipients } = ctx.task.context;
    const text = `Insights for ${day} are on the dashboard`;
    for (const to of recipients) this.outputs.notifications.push({ to, text });
    return { notified: recipients.length };
  }
}
