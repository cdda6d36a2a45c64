import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { DeletionRequestId } from '../../src/domain/ids.js';
import { createSmtpNotifier } from '../../src/notify/smtp-notifier.js';

describe('the SMTP notifier', () => {
  it('gives up on a mail server that accepts the connection and never answers: UNAVAILABLE, in bounded time', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket)); // never greets
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const notifier = createSmtpNotifier({
      url: `smtp://127.0.0.1:${String(port)}`,
      from: 'deletion@example.test',
      timeoutsMs: { connect: 300, reply: 300 },
    });
    const started = Date.now();
    try {
      await expect(
        notifier.sendConfirmationCode({
          deletionRequestId: 'r-1' as DeletionRequestId,
          to: { email: 'someone@mail.test', phone: null },
          code: '12345678',
          expiresAt: new Date(Date.now() + 600_000),
          locale: 'en',
        }),
      ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      notifier.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
