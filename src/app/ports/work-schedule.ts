/** When work falls due, for this replica's worker (a no-op where none runs). */
export interface WorkSchedule {
  /** Work falls due at `at`: a worker that planned its next pass later runs it then. */
  dueAt(at: Date): void;
}
