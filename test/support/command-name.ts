import type { mongo } from 'mongoose';

/** `find deletion_requests`: a monitored command's name and the collection it names. */
export const commandName = (event: mongo.CommandStartedEvent): string => {
  const target: unknown = (event.command as Record<string, unknown>)[event.commandName];
  return typeof target === 'string' ? `${event.commandName} ${target}` : event.commandName;
};
