import type { Connection } from 'mongoose';
import type { ConsoleSessionStore } from '../../app/ports/console-sessions.js';
import type { ConsoleSessionSeal } from '../../crypto/console-sessions.js';
import { persistenceSpan } from '../../telemetry/catalogue.js';
import { mongoCall } from './classify-mongo-error.js';

export const CONSOLE_SESSIONS = 'console_sessions';

/** A console session as stored: under the hash of its id, its credential sealed. */
interface ConsoleSessionDocument {
  _id: string;
  sealed: string;
  expiresAt: Date;
}

/**
 * Console sessions in the `console_sessions` collection, looked up by `_id`
 * (an index on every server). Expired sessions are found by nobody and
 * removed at the next sign-in.
 */
export const createMongoConsoleSessions = (
  conn: Connection,
  options: { readonly seal: ConsoleSessionSeal; readonly ttlMs: number },
): ConsoleSessionStore => {
  const sessions = conn.collection<ConsoleSessionDocument>(CONSOLE_SESSIONS);
  const { seal, ttlMs } = options;
  return {
    ttlMs,
    start: (credential, now) =>
      mongoCall(persistenceSpan(CONSOLE_SESSIONS, 'start'), {}, async () => {
        const { id, key } = seal.newId();
        await sessions.insertOne({
          _id: key,
          sealed: seal.seal(credential, key),
          expiresAt: new Date(now.getTime() + ttlMs),
        });
        await sessions.deleteMany({ expiresAt: { $lte: now } });
        return id;
      }),
    find: (id, now) =>
      mongoCall(persistenceSpan(CONSOLE_SESSIONS, 'find'), {}, async () => {
        const key = seal.keyOf(id);
        if (key === null) return null;
        const found = await sessions.findOne({ _id: key });
        if (found === null || found.expiresAt.getTime() <= now.getTime()) return null;
        return seal.open(found.sealed, key);
      }),
    end: (id) =>
      mongoCall(persistenceSpan(CONSOLE_SESSIONS, 'end'), {}, async () => {
        const key = seal.keyOf(id);
        if (key !== null) await sessions.deleteOne({ _id: key });
      }),
  };
};
