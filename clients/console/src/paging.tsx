/**
 * TanStack Query's paging over the service's keyset page tokens: the first
 * page asks with none, and an empty `nextPageToken` means the last page.
 */
export const keysetPages = {
  initialPageParam: '',
  getNextPageParam: (last: { readonly nextPageToken: string }): string | undefined =>
    last.nextPageToken === '' ? undefined : last.nextPageToken,
};

/** The page token to send for a page: none for the first. */
export const pageTokenOf = (pageParam: string): { readonly pageToken?: string } =>
  pageParam === '' ? {} : { pageToken: pageParam };

/** "Load more", while there is more: the next keyset page, after what is loaded. */
export const LoadMore = ({
  pages,
}: {
  readonly pages: {
    readonly hasNextPage: boolean;
    readonly isFetchingNextPage: boolean;
    readonly fetchNextPage: () => Promise<unknown>;
  };
}) =>
  pages.hasNextPage ? (
    <button
      type="button"
      onClick={() => void pages.fetchNextPage()}
      disabled={pages.isFetchingNextPage}
    >
      Load more
    </button>
  ) : null;
