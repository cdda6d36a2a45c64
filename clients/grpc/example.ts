// Lists the newest deletion requests and shows the first one, over gRPC.
// With `npm start` running (it seeds the API key used here):
//   node --import tsx clients/grpc/example.ts
// Elsewhere: DELETION_ADDRESS=host:port DELETION_API_KEY=... (or DELETION_TOKEN=...).
import { deletionRequest_StateToJSON as stateName } from './gen/deletion/v1/deletion_request.js';
import { createDeletionClient, DeletionServiceError } from './deletion-client.js';

const auth = process.env.DELETION_TOKEN
  ? { token: process.env.DELETION_TOKEN }
  : { apiKey: process.env.DELETION_API_KEY ?? 'dev-support-console-key' };
const client = createDeletionClient({
  address: process.env.DELETION_ADDRESS ?? '127.0.0.1:50051',
  auth,
  deadlineMs: 5000,
});

try {
  const page = await client.listDeletionRequests({ pageSize: 5 });
  console.log(`${String(page.deletionRequests.length)} newest deletion requests:`);
  for (const request of page.deletionRequests)
    console.log(`  ${request.name}  ${stateName(request.state)}  subject ${request.subjectId}`);
  const first = page.deletionRequests[0];
  if (first) {
    const again = await client.getDeletionRequest({ name: first.name }, { deadlineMs: 2000 });
    console.log(`${again.name}: etag ${again.etag}, ${String(again.history.length)} state changes`);
  }
} catch (error) {
  if (!(error instanceof DeletionServiceError)) throw error;
  // Branch on code and reason, never on the message.
  console.error(`failed: ${error.code} ${error.reason} ${error.message}`);
  process.exitCode = 1;
} finally {
  client.close();
}
