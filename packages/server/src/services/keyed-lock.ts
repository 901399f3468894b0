/** Serialises read-check-write sequences per key (one approval, the policy versions). */
export interface Locks {
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
}

/**
 * Serialises async work per key inside this process (e.g. transitions of one approval), so a
 * read-check-write sequence cannot interleave with another one for the same key.
 */
export class KeyedLock implements Locks {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
