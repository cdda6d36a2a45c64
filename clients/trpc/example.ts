// Lists the newest deletion requests over tRPC, or follows one live until it ends.
// With `npm start` running (it seeds the API key used here):
//   node --import tsx clients/trpc/example.ts                          # the newest five
//   node --import tsx clients/trpc/example.ts deletionRequests/<id>    # watch one (Ctrl-C stops)
// Elsewhere: DELETION_TRPC_URL=http://host:port/trpc DELETION_API_KEY=... (or DELETION_TOKEN=...).
import { createDeletionClient, isDeletionClientError } from './deletion-client.js';

const url = process.env.DELETION_TRPC_URL ?? 'http://127.0.0.1:8080/trpc';
const client = process.env.DELETION_TOKEN
  ? createDeletionClient({ url, token: process.env.DELETION_TOKEN })
  : createDeletionClient({
      url,
      apiKey: process.env.DELETION_API_KEY ?? 'dev-support-console-key',
    });

const list = async (): Promise<void> => {
  const page = await client.listDeletionRequests.query({ pageSize: 5 });
  console.log(`${String(page.deletionRequests.length)} newest deletion requests:`);
  for (const request of page.deletionRequests)
    console.log(`  ${request.name}  ${request.state}  subject ${request.subjectId}`);
};

const watch = (name: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const subscription = client.watchDeletionRequest.subscribe(
      { name },
      {
        onData: ({ data: event }) => {
          if (event.kind === 'SNAPSHOT')
            console.log(`${event.request.name} is ${event.request.state}`);
          if (event.kind === 'STATE_CHANGED')
            console.log(
              `${event.change.time}  ${event.change.fromState} → ${event.change.toState}  by ${event.change.actor.id}  (${event.change.note})`,
            );
          if (event.kind === 'PARTICIPANT_CHANGED')
            console.log(
              `${event.participant.updateTime}  ${event.participant.participant}: ${event.participant.status}${event.participant.outcome ? ` ${event.participant.outcome.kind}` : ''}`,
            );
        },
        onComplete: resolve,
        onError: reject,
      },
    );
    process.once('SIGINT', () => {
      subscription.unsubscribe();
      resolve();
    });
  });

try {
  const name = process.argv[2];
  await (name === undefined ? list() : watch(name));
} catch (error) {
  if (!isDeletionClientError(error)) throw error;
  // Branch on data.status and data.reason, never on the message.
  console.error(
    error.data
      ? `failed: ${error.data.status} ${error.data.reason}: ${error.message}`
      : `no answer from ${url}: ${error.message}`,
  );
  process.exitCode = 1;
}
