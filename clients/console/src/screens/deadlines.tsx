import { useQuery } from '@tanstack/react-query';
import { api, describeError, type RequestView } from '../api.js';
import { FINAL_STATES, Pending, useNow } from '../format.js';
import { RequestTable } from './queue.js';

const SOON_DAYS = 7;

/** Open requests past their legal deadline, then those due within a week, soonest first. */
export const DeadlinesScreen = () => {
  const now = useNow();
  const open = useQuery({
    queryKey: ['requests', 'open'],
    queryFn: async () => {
      const found: RequestView[] = [];
      let pageToken = '';
      // Newest first: bounded to the newest thousand requests on this screen.
      for (let page = 0; page < 4; page += 1) {
        const answer = await api.listDeletionRequests.query({
          pageSize: 250,
          ...(pageToken !== '' && { pageToken }),
        });
        found.push(
          ...answer.deletionRequests.filter((request) => !FINAL_STATES.includes(request.state)),
        );
        pageToken = answer.nextPageToken;
        if (pageToken === '') break;
      }
      return found;
    },
    refetchInterval: 30_000,
  });
  if (open.isPending || open.isError)
    return <Pending error={open.isError ? describeError(open.error) : null} />;
  const soon = now + SOON_DAYS * 86_400_000;
  const byDeadline = [...open.data].sort((a, b) => a.legalDeadline.localeCompare(b.legalDeadline));
  const overdue = byDeadline.filter((request) => Date.parse(request.legalDeadline) < now);
  const due = byDeadline.filter((request) => {
    const at = Date.parse(request.legalDeadline);
    return at >= now && at < soon;
  });
  return (
    <section>
      <h1>Deadlines</h1>
      <h2>Past their legal deadline ({overdue.length})</h2>
      <RequestTable requests={overdue} />
      <h2>
        Due within {SOON_DAYS} days ({due.length})
      </h2>
      <RequestTable requests={due} />
    </section>
  );
};
