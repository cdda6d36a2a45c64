// Prints the dev mailbox of a running `npm start` (development only).
//   npm run mailbox -- alice@example.test
const to = process.argv[2];
const port = process.env.HTTP_PORT ?? '8080';
const url = `http://127.0.0.1:${port}/dev/mailbox${to ? `?to=${encodeURIComponent(to)}` : ''}`;
const response = await fetch(url).catch(() => undefined);
if (!response?.ok) {
  console.error(`no dev mailbox at ${url}: is \`npm start\` running (with NOTIFIER=dev-mailbox)?`);
  process.exit(1);
}
const { messages } = await response.json();
for (const message of messages) {
  console.log(
    `--- ${message.sentAt} to ${message.to}\nSubject: ${message.subject}\n\n${message.text}\n`,
  );
}
if (messages.length === 0) console.log('(no messages)');
