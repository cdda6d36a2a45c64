import { keysetPages, LoadMore, pageTokenOf } from '../paging.js';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, describeError } from '../api.js';
import { Pending, useNow } from '../format.js';
import { RequestTable } from './queue.js';

const SOON_DAYS = 7;

/**
 * Open requests past their legal deadline, then those due within a week,
 * soonest first: the service orders them by deadline (keyset pages, so the
 * list stays stable while it loads more).
 */
export const DeadlinesScreen = () => {
  const now = useNow();
  // Fixed while the screen is open, so pages loaded stay loaded (Refresh moves it on).
  const [horizon, setHorizon] = useState(() => new Date(now + SOON_DAYS * 86_400_000));
  const pages = useInfiniteQuery({
    queryKey: ['requests', 'deadline-before', horizon.toISOString()],
    queryFn: ({ pageParam }) =>
      api.listDeletionRequests.query({
        deadlineBefore: horizon,
        pageSize: 100,
        ...pageTokenOf(pageParam),
      }),
    ...keysetPages,
  });
  if (pages.isPending || pages.isError)
    return <Pending error={pages.isError ? describeError(pages.error) : null} />;
  const open = pages.data.pages.flatMap((page) => page.deletionRequests);
  const overdue = open.filter((request) => Date.parse(request.legalDeadline) < now);
  const due = open.filter((request) => Date.parse(request.legalDeadline) >= now);
  return (
    <section>
      <h1>
        Deadlines{' '}
        <button
          type="button"
          className="secondary"
          onClick={() => setHorizon(new Date(now + SOON_DAYS * 86_400_000))}
        >
          Refresh
        </button>
      </h1>
      <h2>
        Past their legal deadline ({overdue.length}
        {pages.hasNextPage && due.length === 0 ? '+' : ''})
      </h2>
      <RequestTable requests={overdue} />
      <h2>
        Due within {SOON_DAYS} days ({due.length}
        {pages.hasNextPage ? '+' : ''})
      </h2>
      <RequestTable requests={due} />
      <LoadMore pages={pages} />
    </section>
  );
};
