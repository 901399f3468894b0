/**
 * The state behind novelty signals (`novel.<id>`): which keys were ever allowed, or approved and
 * executed. Keys are opaque strings the engine builds (the JSON array [policy, signal, ...values]).
 * Synchronous, like the in-memory counter store: the engine reads it while evaluating conditions.
 */
export interface SeenStore {
  has(key: string): boolean;
  add(keys: readonly string[]): void;
}

/** Everything in one process's memory; restored from the audit trail by the server at start. */
export class MemorySeenStore implements SeenStore {
  private readonly keys = new Set<string>();

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(keys: readonly string[]): void {
    for (const key of keys) this.keys.add(key);
  }

  get size(): number {
    return this.keys.size;
  }
}
