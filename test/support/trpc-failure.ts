import {
  isDeletionClientError,
  type DeletionClientError,
} from '../../clients/trpc/deletion-client.js';

/** Awaits a tRPC call that must fail and returns its error (fails the test if it resolved). */
export const trpcFailure = async (promise: Promise<unknown>): Promise<DeletionClientError> => {
  try {
    await promise;
  } catch (error) {
    if (isDeletionClientError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail, it succeeded');
};
