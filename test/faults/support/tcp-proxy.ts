/**
 * A TCP proxy between the workers and Postgres that injects network faults: latency on every
 * chunk (order kept per direction), freezes (nothing flows for a while, then everything does),
 * and black holes (the connections open now go silent for good, without FIN or RST, as when a
 * route to the server disappears; new connections work).
 */
import { createServer, Server, Socket } from 'node:net';

interface Pipe {
  client: Socket;
  server: Socket;
  dead: boolean;
  /** Requests still reach the server, answers are dropped (and the connection stays open). */
  deaf: boolean;
}

export class TcpProxy {
  private readonly pipes = new Set<Pipe>();
  private frozenUntil = 0;
  /** Delay of each chunk: a random value up to this (ms). */
  maxDelayMs = 0;
  private swallow?: { match: RegExp; left: number; hit: () => void };
  private downUntil = 0;
  private answersHeldUntil = 0;

  private constructor(
    private readonly srv: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const ref: { proxy?: TcpProxy } = {};
    const srv = createServer((client) => ref.proxy!.connect(client, targetPort));
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    ref.proxy = new TcpProxy(srv, (srv.address() as { port: number }).port);
    return ref.proxy;
  }

  private connect(client: Socket, targetPort: number): void {
    if (Date.now() < this.downUntil) {
      client.destroy(); // refused, as by a server that is down
      return;
    }
    const server = new Socket();
    const pipe: Pipe = { client, server, dead: false, deaf: false };
    this.pipes.add(pipe);
    const forward = (from: Socket, to: Socket) => {
      let chain = Promise.resolve();
      from.on('data', (chunk) => {
        const sw = this.swallow;
        if (from === client && sw && sw.left > 0 && sw.match.test(chunk.toString('latin1'))) {
          // This request goes through; its answer, and every later one on this connection, never comes back.
          sw.left--;
          pipe.deaf = true;
          sw.hit();
        }
        if (from === server && pipe.deaf) return;
        if (from === server && Date.now() < this.answersHeldUntil) {
          // Held back, then written in one piece: the client reads all of it at once.
          held.push(chunk);
          flushTimer ??= setTimeout(flush, this.answersHeldUntil - Date.now());
          return;
        }
        const delay = Math.max(Math.random() * this.maxDelayMs, this.frozenUntil - Date.now());
        chain = chain.then(async () => {
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          // A frozen period that started while this chunk waited holds it too.
          while (this.frozenUntil > Date.now()) await new Promise((r) => setTimeout(r, this.frozenUntil - Date.now()));
          if (!pipe.dead && !to.destroyed) to.write(chunk);
        });
      });
      from.on('end', () => {
        if (from === server && flushTimer) closeAfterFlush = true; // after the held answers
        else void chain.then(() => !pipe.dead && to.end());
      });
    };
    const held: Buffer[] = [];
    let flushTimer: NodeJS.Timeout | undefined;
    let closeAfterFlush = false;
    const flush = () => {
      flushTimer = undefined;
      if (held.length && !client.destroyed) client.write(Buffer.concat(held.splice(0)));
      if (closeAfterFlush) client.end();
    };
    const close = () => {
      if (pipe.dead) return; // a black-holed connection stays open and silent
      if (flushTimer) {
        closeAfterFlush = true; // the server closed: the held answers still go out first
        return;
      }
      this.pipes.delete(pipe);
      client.destroy();
      server.destroy();
    };
    client.on('error', close);
    server.on('error', close);
    client.on('close', close);
    server.on('close', close);
    server.connect(targetPort, '127.0.0.1');
    forward(client, server);
    forward(server, client);
  }

  /**
   * The next `times` requests whose bytes match `match` reach the server, but their answers are
   * lost, as are all later ones on those connections (which stay open and silent): a statement that
   * committed while its client never heard. Resolves true when all of them were sent, false if
   * `timeoutMs` passed first (no such request came: the armed swallow is then dropped).
   */
  swallowAnswers(match: RegExp, times = 1, timeoutMs = 15_000): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.swallow = undefined;
        resolve(false);
      }, timeoutMs);
      this.swallow = {
        match,
        left: times,
        hit: () => {
          if (this.swallow!.left > 0) return;
          clearTimeout(timer);
          resolve(true);
        },
      };
    });
  }

  /** For `ms`, the server is unreachable: open connections are reset, new ones refused. */
  down(ms: number): void {
    this.downUntil = Date.now() + ms;
    for (const p of this.pipes) {
      p.client.destroy();
      p.server.destroy();
    }
  }

  /**
   * For `ms`, requests reach the server but its answers are held back; then they all arrive at once
   * (so a client reads several of the server's messages, e.g. "ready" and a fatal error, in one go).
   */
  holdAnswers(ms: number): void {
    this.answersHeldUntil = Math.max(this.answersHeldUntil, Date.now() + ms);
  }

  /** Nothing flows for `ms`; then everything that waited does, in order. */
  freeze(ms: number): void {
    this.frozenUntil = Math.max(this.frozenUntil, Date.now() + ms);
  }

  /** Every connection open now goes silent forever (no data, no FIN, no RST). Returns how many. */
  blackhole(): number {
    let n = 0;
    for (const p of this.pipes) {
      if (!p.dead) n++;
      p.dead = true;
    }
    return n;
  }

  async stop(): Promise<void> {
    for (const p of this.pipes) {
      p.client.destroy();
      p.server.destroy();
    }
    await new Promise<void>((resolve) => this.srv.close(() => resolve()));
  }
}
