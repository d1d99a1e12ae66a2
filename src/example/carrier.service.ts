import { RetryableError } from 'nestjs-tasker';

/**
 * Stand-in for a shipping carrier's API. A demo outage is asked for per order: while the order's
 * `carrierOutageUntil` (an ISO time) lies ahead, booking fails with CARRIER_UNAVAILABLE, so an
 * operator can rehearse "wait for (or fix) the cause, then retry" from the dashboard. A plain class
 * the handler creates, so the demo's module needs no further provider.
 */
export class CarrierService {
  async book(orderId: string, parcels: number, outageUntil?: string): Promise<{ trackingId: string; parcels: number }> {
    const until = outageUntil ? Date.parse(outageUntil) : NaN;
    if (!Number.isNaN(until) && Date.now() < until) {
      throw new RetryableError(`Carrier API unavailable (demo outage until ${new Date(until).toISOString()}): shipment for ${orderId} not booked`, {
        code: 'CARRIER_UNAVAILABLE',
      });
    }
    await new Promise((r) => setTimeout(r, 50));
    return { trackingId: `trk_${orderId}`, parcels };
  }
}
