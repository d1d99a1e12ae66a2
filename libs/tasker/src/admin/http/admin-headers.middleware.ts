import { Injectable, NestMiddleware } from '@nestjs/common';

interface HeaderTarget {
  setHeader(name: string, value: string): void;
}

/** Headers of every admin answer: never sniffed as another type, never kept by a cache (they hold task data). */
export function setAdminHeaders(res: HeaderTarget): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
}

@Injectable()
export class AdminHeadersMiddleware implements NestMiddleware {
  use(_req: unknown, res: HeaderTarget, next: () => void): void {
    setAdminHeaders(res);
    next();
  }
}
