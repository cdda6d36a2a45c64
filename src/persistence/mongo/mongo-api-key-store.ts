import type { Connection } from 'mongoose';
import type { ApiKeyRecord, ApiKeyStore } from '../../app/ports/api-key-store.js';
import { persistenceSpan } from '../../telemetry/catalogue.js';
import { mongoCall } from './classify-mongo-error.js';

/** An API key as stored: its SHA-256, never the key. */
export interface ApiKeyDocument {
  _id: string;
  hash: string;
  scopes: string[];
  revoked: boolean;
  createdAt: Date;
}

/** The collection of API keys for tools. */
export const API_KEYS_COLLECTION = 'api_keys';

/** Looks up API keys by hash in the `api_keys` collection. */
export const createMongoApiKeyStore = (connection: Connection): ApiKeyStore => {
  const keys = connection.collection<ApiKeyDocument>(API_KEYS_COLLECTION);
  return {
    findByHash: (hash) =>
      mongoCall(persistenceSpan('api_keys', 'find_by_hash'), {}, async () => {
        const found = await keys.findOne({ hash });
        return found === null
          ? null
          : ({
              name: found._id,
              scopes: found.scopes,
              revoked: found.revoked,
            } satisfies ApiKeyRecord);
      }),
  };
};

/** Stores (or replaces) an API key by name; only its hash is written. */
export const putApiKey = async (
  connection: Connection,
  key: { readonly name: string; readonly hash: string; readonly scopes: readonly string[] },
): Promise<void> => {
  await connection.collection<ApiKeyDocument>(API_KEYS_COLLECTION).updateOne(
    { _id: key.name },
    {
      $set: { hash: key.hash, scopes: [...key.scopes] },
      // A revoked key stays revoked when it is put again.
      $setOnInsert: { revoked: false, createdAt: new Date() },
    },
    { upsert: true },
  );
};
