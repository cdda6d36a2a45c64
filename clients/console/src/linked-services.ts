import { useQuery } from '@tanstack/react-query';
import { api } from './api.js';

/** The registry as the service runs it: one query for every screen (it changes with a deploy). */
export const useLinkedServices = (enabled = true) =>
  useQuery({
    queryKey: ['linked-services'],
    queryFn: () => api.listLinkedServices.query({}),
    enabled,
    staleTime: 60_000,
  });
