import {
  createParticipantServer,
  type EraseOutcome,
  type ParticipantServer,
} from '../../clients/participant-sdk/create-participant-server.js';
import { createTable } from './table.js';

/**
 * Messaging: hides a suspended subject's profile and inbox, shows them again
 * on restore, and erases every message and attachment at purge. Idempotent
 * in its own store: a repeat of a deletion request answers what the first
 * call did, not "nothing found".
 */
export const createMessagingService = (subjects: readonly string[]): ParticipantServer => {
  const messages = createTable(subjects.map((subject) => [subject, 40] as const));
  const attachments = createTable(subjects.map((subject) => [subject, 3] as const));
  const hidden = createTable<boolean>();
  const erasures = createTable<EraseOutcome>();
  return createParticipantServer({
    suspend: ({ subjectId }) => hidden.set(subjectId, true),
    restore: async ({ subjectId }) => {
      await hidden.take(subjectId);
    },
    erase: async ({ deletionRequest, subjectId }) => {
      const known = await erasures.get(deletionRequest);
      if (known) return known;
      const records =
        ((await messages.take(subjectId)) ?? 0) + ((await attachments.take(subjectId)) ?? 0);
      await hidden.take(subjectId);
      const outcome: EraseOutcome =
        records > 0
          ? { kind: 'erased', records, categories: ['messages', 'attachments'] }
          : { kind: 'nothingFound' };
      await erasures.set(deletionRequest, outcome);
      return outcome;
    },
  });
};
