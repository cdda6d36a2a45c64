import { createContext, useContext } from 'react';
import type { Viewer } from './api.js';

/** Who is signed in; provided by the signed-in part of the console. */
export const ViewerContext = createContext<Viewer | null>(null);

/** Who is signed in (inside the signed-in part of the console). */
export const useViewer = (): Viewer => {
  const viewer = useContext(ViewerContext);
  if (viewer === null) throw new Error('useViewer outside a signed-in console');
  return viewer;
};

/** Whether the viewer's scopes allow an operation on any subject (the service decides again). */
export const useAllowed = (operation: string): boolean => useViewer().allowed.includes(operation);
