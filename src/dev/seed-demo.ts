import type { Connection } from 'mongoose';
import type { SubjectCipher } from '../app/ports/subject-keys.js';
import { sealAccountContact } from '../persistence/mongo/mongo-account-directory.js';
import { putApiKey } from '../persistence/mongo/mongo-api-key-store.js';

interface DemoAccount {
  _id: string;
  email: string;
  roles: string[];
  flagged: boolean;
  jurisdiction: 'GDPR' | 'CCPA';
  locale: string;
  status: 'ACTIVE';
}

const accounts: DemoAccount[] = [
  {
    _id: 'alice',
    email: 'alice@example.test',
    roles: ['member'],
    flagged: false,
    jurisdiction: 'GDPR',
    locale: 'en',
    status: 'ACTIVE',
  },
  {
    _id: 'bob',
    email: 'bob@example.test',
    roles: ['admin'],
    flagged: false,
    jurisdiction: 'CCPA',
    locale: 'en',
    status: 'ACTIVE',
  },
  {
    _id: 'carla',
    email: 'carla@example.test',
    roles: ['member'],
    flagged: false,
    jurisdiction: 'GDPR',
    locale: 'de',
    status: 'ACTIVE',
  },
];

/** The API key `npm start` seeds for trying the admin side (development only). */
export const DEMO_API_KEY = {
  name: 'demo-support-console',
  key: 'dev-support-console-key',
  scopes: ['deletion:read', 'deletion:approve', 'deletion:admin'],
};

/**
 * Seeds demo accounts with sessions and API tokens, and one API key, when
 * missing (development only; `SEED_DEMO=true`), at every start: an account
 * a deletion erased is made again, one that exists is left as it is.
 */
export const seedDemo = async (
  connection: Connection,
  names: { readonly accounts: string; readonly sessions: string; readonly apiTokens: string },
  how: { readonly hashKey: (key: string) => string; readonly cipher: SubjectCipher },
): Promise<void> => {
  for (const account of accounts) {
    // Inserted when missing: a demo account a deletion erased comes back at the next start.
    const result = await connection
      .collection<DemoAccount>(names.accounts)
      .updateOne(
        { _id: account._id },
        { $setOnInsert: await sealAccountContact(how.cipher, account) },
        { upsert: true },
      );
    if (result.upsertedCount === 0) continue;
    await connection.collection(names.sessions).insertMany([
      { subjectId: account._id, device: 'laptop', createdAt: new Date() },
      { subjectId: account._id, device: 'phone', createdAt: new Date() },
    ]);
    await connection
      .collection(names.apiTokens)
      .insertOne({ subjectId: account._id, label: 'cli', createdAt: new Date() });
  }
  await putApiKey(connection, {
    name: DEMO_API_KEY.name,
    hash: how.hashKey(DEMO_API_KEY.key),
    scopes: DEMO_API_KEY.scopes,
  });
};
