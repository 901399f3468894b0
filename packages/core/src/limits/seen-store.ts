/**
 * The state behind novelty signals (`novel.<id>`): which keys were ever allowed, or approved and
 * executed. Keys are opaque strings the engine builds (the JSON array [policy, signal, ...values]).
 * Synchronous, like the in-memory counter store: the engine reads it while evaluating conditions.
 */
export interface SeenStore {
  has(key: string): boolean;
  add(keys: readonly string[]): void;
}

/** The default bound of a MemorySeenStore: what its keys may hold, in characters (see SEEN_ENTRY_COST). */
export const SEEN_MAX_CHARS = 32 * 1024 * 1024;
/** What one key costs beside its characters (its entry in the set), in the same unit. */
export const SEEN_ENTRY_COST = 48;

/**
 * Everything in one process's memory; restored from the audit trail by the server at start.
 *
 * Bounded: each allowed call adds its keys, and an agent can make every call's key new (a new
 * account id each time), so without a bound the set would grow for as long as the server runs.
 * Past `maxChars` (the keys' characters plus SEEN_ENTRY_COST each) the least recently allowed
 * keys are forgotten. A forgotten key reads as novel again: the error is towards more approvals,
 * never fewer, as when an instance has not seen another's keys.
 */
export class MemorySeenStore implements SeenStore {
  /** In order of last use: an allowed call's keys move to the end. */
  private readonly keys = new Set<string>();
  private chars = 0;
  /**
   * Where eviction goes on from: a Set's iterator stays valid as entries are deleted and added,
   * and steps over the deleted ones once. A new iterator per eviction would walk every entry
   * deleted before it again (V8 keeps them in place until the table is rebuilt): at the bound,
   * each new key cost up to ~0.3 ms.
   */
  private oldest: Iterator<string> | undefined;

  constructor(private readonly maxChars: number = SEEN_MAX_CHARS) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(keys: readonly string[]): void {
    for (const key of keys) {
      if (this.keys.delete(key)) this.chars -= key.length + SEEN_ENTRY_COST;
      this.keys.add(key);
      this.chars += key.length + SEEN_ENTRY_COST;
    }
    while (this.chars > this.maxChars && this.keys.size > 0) {
      let next = (this.oldest ??= this.keys.values()).next();
      if (next.done === true) next = (this.oldest = this.keys.values()).next();
      if (next.done === true) break;
      const key = next.value;
      this.keys.delete(key);
      this.chars -= key.length + SEEN_ENTRY_COST;
    }
  }

  get size(): number {
    return this.keys.size;
  }

  /** What the keys hold now, counted as the bound counts it. */
  get heldChars(): number {
    return this.chars;
  }
}
