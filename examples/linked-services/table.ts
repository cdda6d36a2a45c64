/** An in-memory table standing in for an example service's own database (asynchronous, like one). */
export interface Table<V> {
  get(key: string): Promise<V | undefined>;
  set(key: string, value: V): Promise<void>;
  /** Deletes the row; resolves to what it held. */
  take(key: string): Promise<V | undefined>;
}

export const createTable = <V>(rows: Iterable<readonly [string, V]> = []): Table<V> => {
  const map = new Map<string, V>(rows);
  return {
    get: (key) => Promise.resolve(map.get(key)),
    set: (key, value) => {
      map.set(key, value);
      return Promise.resolve();
    },
    take: (key) => {
      const value = map.get(key);
      map.delete(key);
      return Promise.resolve(value);
    },
  };
};
