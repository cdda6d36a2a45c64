// Prints the dev mailbox of a running `npm start` (development only), newest first.
//   npm run mailbox -- [address] [--request <id>] [--port <http port>]
import { URLSearchParams } from 'node:url';
import { parseArgs } from 'node:util';

const usage = `Usage: npm run -s mailbox -- [address] [--request <id>] [--port <port>]

Prints the newest messages (at most 20) of the dev mailbox of a running \`npm start\`
(NOTIFIER=dev-mailbox, the development default), newest first.

  address            only messages to this address (e-mail, phone or push registration)
  --request <id>     only messages about this request (its id, or deletionRequests/<id>)
  --port <port>      the service's HTTP port (default $HTTP_PORT or 8080)
  -h, --help         this text`;

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      request: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (error) {
  console.error(`mailbox: ${error.message}\n\n${usage}`);
  process.exit(2);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (positionals.length > 1) {
  console.error(`mailbox: one address at most\n\n${usage}`);
  process.exit(2);
}
const query = new URLSearchParams();
if (positionals[0]) query.set('to', positionals[0]);
if (values.request) {
  const id = values.request;
  query.set('request', id.startsWith('deletionRequests/') ? id : `deletionRequests/${id}`);
}
const port = values.port ?? process.env.HTTP_PORT ?? '8080';
const url = `http://127.0.0.1:${port}/dev/mailbox${query.size > 0 ? `?${query}` : ''}`;
const response = await fetch(url).catch(() => undefined);
if (!response?.ok) {
  console.error(
    `mailbox: no dev mailbox at ${url}: is \`npm start\` running (with NOTIFIER=dev-mailbox)?`,
  );
  process.exit(1);
}
const { messages } = await response.json();
for (const message of messages) {
  const about = message.deletionRequest ? ` (${message.deletionRequest})` : '';
  console.log(
    `--- ${message.sentAt} to ${message.to}${about}\nSubject: ${message.subject}\n\n${message.text}\n`,
  );
}
if (messages.length === 0) console.log('(no messages)');
