/** The scopes of docs/design.md §4. */
export const scopes = [
  'deletion:self',
  'deletion:request',
  'deletion:read',
  'deletion:approve',
  'deletion:admin',
  'deletion:participant',
] as const;

/** A permission a principal may hold. */
export type Scope = (typeof scopes)[number];

/** Whether a string is one of the known scopes. */
export const isScope = (value: string): value is Scope =>
  (scopes as readonly string[]).includes(value);

/** Who acted: ids only, never personal data. */
export interface Actor {
  readonly kind: 'USER' | 'SERVICE' | 'SYSTEM';
  readonly id: string;
}

/** Whether the actor is the subject acting on their own account. */
export const isSubjectItself = (actor: Actor, subjectId: string): boolean =>
  actor.kind === 'USER' && actor.id === subjectId;

/** An authenticated caller. */
export interface Principal {
  readonly actor: Actor;
  readonly scopes: ReadonlySet<Scope>;
  /** The subject a `deletion:self` caller may act on: their own id. */
  readonly ownSubjectId: string | null;
  /** When the caller last authenticated (JWT `auth_time`), for step-up checks. */
  readonly authTime: Date | null;
  /** Authentication methods (JWT `amr`). */
  readonly amr: readonly string[];
}

/** The service itself acting (sweeper, worker). */
export const systemActor = (component: string): Actor => ({
  kind: 'SYSTEM',
  id: `system/${component}`,
});
