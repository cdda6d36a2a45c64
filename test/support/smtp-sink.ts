import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A message the sink received. */
export interface ReceivedMail {
  readonly to: readonly string[];
  readonly raw: string;
}

/** A real SMTP server on 127.0.0.1 that keeps what it receives, for tests. */
export interface SmtpSink extends AsyncDisposable {
  readonly url: string;
  readonly messages: ReceivedMail[];
  /** Resolves with the newest code sent to `to` after `since` messages, waiting up to 5 s. */
  waitForCode(to: string, since?: number): Promise<string>;
  /**
   * Refuses the next `count` messages (only those to `to`, when given): 451
   * (default) as a server that is down, 550 for good.
   */
  refuseNext(count: number, responseCode?: 451 | 550, to?: string): void;
}

export const startSmtpSink = async (): Promise<SmtpSink> => {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  let refusals = 0;
  let refusalCode = 451;
  let refusedTo: string | undefined;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const recipients = session.envelope.rcptTo.map((r) => r.address);
        if (refusals > 0 && (refusedTo === undefined || recipients.includes(refusedTo))) {
          refusals -= 1;
          callback(Object.assign(new Error('refused'), { responseCode: refusalCode }));
          return;
        }
        messages.push({
          to: recipients,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  /** The code in the newest mail to `to` since `since` that carries one (notices may follow it). */
  const findCode = (to: string, since: number): string | undefined =>
    messages
      .slice(since)
      .filter((m) => m.to.includes(to))
      .map((m) => /^\s+(\d{6,10})\s*$/m.exec(m.raw)?.[1])
      .findLast((code) => code !== undefined);
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    refuseNext: (count, responseCode = 451, to) => {
      refusals = count;
      refusalCode = responseCode;
      refusedTo = to;
    },
    waitForCode: (to, since = 0) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const code = findCode(to, since);
          if (code === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(code);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no code for ${to} within 5 s`));
        }, 5000);
        waiters.add(check);
        check();
      }),
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
