// What must not compile for a consumer of the packed tRPC client: the router's types reach it.
// tsc fails on an @ts-expect-error that has no error under it, so a passing tsc proves each.
import { createDeletionClient, type DeletionRequestView } from '@account-deletion/trpc-client';

const client = createDeletionClient({ url: 'http://127.0.0.1:8080/trpc', apiKey: 'key' });
export const misuse = async (): Promise<void> => {
  // @ts-expect-error a misspelt input field
  await client.getDeletionRequest.query({ nme: 'deletionRequests/x' });
  // @ts-expect-error no such procedure
  await client.deleteEverything.mutate({});
  const request: DeletionRequestView = await client.getDeletionRequest.query({ name: 'x' });
  // @ts-expect-error the state is one of the service's states
  const state: 'EXPLODED' = request.state;
  // @ts-expect-error a server-internal field is not in the view
  console.log(state, request.leaseOwner);
};
