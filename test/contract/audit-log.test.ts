import { beforeAll } from 'vitest';
import { createAuditOutbox } from '../../src/app/audit/audit-trail.js';
import type { AuditLog } from '../../src/app/ports/audit-log.js';
import { createAuditSeal } from '../../src/crypto/audit-seal.js';
import { migrate } from '../../src/persistence/mongo/migrations.js';
import { AUDIT_EVENTS, createMongoAuditLog } from '../../src/persistence/mongo/mongo-audit-log.js';
import { fakeAuditLog, fakeAuditOutbox, fakeAuditSeal } from '../support/fakes/audit-log.js';
import { storeAway } from '../support/fakes/store-away.js';
import { useTestDatabase } from '../support/test-database.js';
import {
  describeAuditLogContract,
  describeAuditOutboxContract,
  outboxPseudonymOf,
} from './audit-log.contract.js';
import { accountCollections } from './real-database.js';

const db = useTestDatabase('contract_audit');
const seal = createAuditSeal('test-only-audit-key-0123456789abcdef');

beforeAll(async () => {
  await migrate(db(), accountCollections);
});

/** An empty audit log in the test database. */
const emptyMongoLog = async (): Promise<AuditLog> => {
  await Promise.all(
    [AUDIT_EVENTS, 'audit_head'].map((name) => db().collection(name).deleteMany({})),
  );
  return createMongoAuditLog(db(), seal);
};

/** `log`, failing every append and read (UNAVAILABLE) while `down` says so. */
const switchable = (log: AuditLog, down: () => boolean): AuditLog => {
  const away = () => Promise.reject(storeAway());
  return {
    append: (entry) => (down() ? away() : log.append(entry)),
    has: (key) => (down() ? away() : log.has(key)),
    read: (after, limit) => (down() ? away() : log.read(after, limit)),
    list: (filter, after, limit) => (down() ? away() : log.list(filter, after, limit)),
    head: () => log.head(),
    factsAuditedSince: () => log.factsAuditedSince(),
  };
};

describeAuditLogContract('in-memory fake', () => {
  const fakeSeal = fakeAuditSeal();
  const log = fakeAuditLog(fakeSeal);
  return Promise.resolve({ log, replica: () => log, seal: fakeSeal });
});

describeAuditLogContract('MongoDB adapter', async () => ({
  log: await emptyMongoLog(),
  replica: () => createMongoAuditLog(db(), seal),
  seal,
}));

describeAuditOutboxContract('in-memory fake', () => {
  const log = fakeAuditLog(fakeAuditSeal());
  return Promise.resolve({
    outbox: fakeAuditOutbox(log, outboxPseudonymOf),
    replica: () => fakeAuditOutbox(log, outboxPseudonymOf),
    log,
    setLogDown: log.setDown,
  });
});

describeAuditOutboxContract('the outbox over the MongoDB adapter', async () => {
  let down = false;
  const log = switchable(await emptyMongoLog(), () => down);
  const outbox = () =>
    createAuditOutbox({ log, pseudonymOf: outboxPseudonymOf, onFailure: () => undefined });
  return {
    outbox: outbox(),
    replica: outbox,
    log,
    setLogDown: (value) => {
      down = value;
    },
  };
});
