import { Injectable } from '@nestjs/common';

/** Stands in for e-mail or chat: keeps what it was asked to send. */
@Injectable()
export class Notifier {
  readonly sent: { to: string; text: string }[] = [];

  async send(to: string, text: string) {
    this.sent.push({ to, text });
    return { to, text };
  }
}
