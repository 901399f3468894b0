/** Time source of the server. Injected so tests can move time (approval expiry, sessions) without waiting. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
