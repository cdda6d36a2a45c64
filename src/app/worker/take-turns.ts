/**
 * A queue of one: each call of the returned function runs `work` after the
 * previous one has settled (failed or not). For writers of one shared record
 * in one process, which racing each other would only lose turns.
 */
export const takeTurns = (): (<T>(work: () => Promise<T>) => Promise<T>) => {
  let last: Promise<unknown> = Promise.resolve();
  return (work) => {
    const mine = last.then(work, work);
    last = mine.catch(() => undefined);
    return mine;
  };
};
