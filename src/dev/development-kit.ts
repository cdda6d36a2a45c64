import type { DevelopmentKit } from '../compose.js';
import { createMailboxChannel } from './mailbox-channel.js';
import { createMongoMailboxStore } from './mongo-mailbox-store.js';
import { seedDemo } from './seed-demo.js';

/** The dev mailbox (its newest 20 messages listed) and the demo data, for the development start and tests. */
export const developmentKit: DevelopmentKit = {
  mailbox: (connection) => {
    const store = createMongoMailboxStore(connection);
    return {
      channel: createMailboxChannel(store),
      list: (filter) => store.list({ ...filter, limit: 20 }),
      expire: (before) => store.expire(before),
    };
  },
  seed: seedDemo,
};
