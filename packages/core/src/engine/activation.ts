import { METER, type Meter } from '../cel/cost.js';
import type { DecisionRequest } from './types.js';
import type { WorkingHours } from './working-hours.js';

/**
 * The variables a condition sees. `session` and `time` are built only if a condition reads them,
 * and the clock is read only if a condition or a limit needs it: most calls never pay for it.
 */
export class RequestActivation {
  readonly args: Record<string, unknown>;
  readonly agent: string;
  readonly role: string;
  readonly environment: string;
  readonly tool: string;
  private readonly sessionId: string | undefined;
  private readonly sessionAttributes: DecisionRequest['sessionAttributes'];
  /** Computes `novel` for the call (set by the engine when its policies declare novelty signals). */
  noveltySource: (() => Record<string, boolean>) | undefined;
  private novelValue: Record<string, boolean> | undefined;
  private hoursValue: Record<string, boolean> | undefined;
  private readonly clock: () => number;
  private atMs: number | undefined;
  private timeValue: Record<string, unknown> | undefined;
  private sessionValue: Record<string, unknown> | undefined;
  /** What the decision may still spend on CEL evaluation; set by the engine only when a condition is metered. */
  declare [METER]?: Meter;

  constructor(
    request: DecisionRequest,
    args: Record<string, unknown>,
    environment: string,
    atMs: number | undefined,
    clock: () => number,
    /** The bundle's working-hours signals, when it declares any. */
    private readonly workingHours?: readonly WorkingHours[],
  ) {
    this.args = args;
    this.agent = request.agent;
    this.role = request.role;
    this.environment = environment;
    this.tool = request.tool;
    this.sessionId = request.session;
    this.sessionAttributes = request.sessionAttributes;
    this.atMs = atMs;
    this.clock = clock;
  }

  /** The request's time: its `at`, or the clock read once. */
  now(): number {
    return (this.atMs ??= this.clock());
  }

  get session(): Record<string, unknown> {
    if (this.sessionValue) return this.sessionValue;
    // A copy: conditions must not see a prototype or later changes; `id` is the session id's name.
    const value: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    if (this.sessionAttributes) for (const [key, attribute] of Object.entries(this.sessionAttributes)) value[key] = attribute;
    if (this.sessionId !== undefined) value.id = this.sessionId;
    return (this.sessionValue = value);
  }

  /** `novel.<signal>`: true while the call's key for that signal was never seen. */
  get novel(): Record<string, boolean> {
    return (this.novelValue ??= this.noveltySource ? this.noveltySource() : {});
  }

  /** `hours.<signal>`: whether the request time is inside that signal's working hours. */
  get hours(): Record<string, boolean> {
    if (this.hoursValue) return this.hoursValue;
    const value: Record<string, boolean> = Object.create(null) as Record<string, boolean>;
    if (this.workingHours) {
      const atMs = this.now();
      for (const signal of this.workingHours) value[signal.id] = signal.contains(atMs);
    }
    return (this.hoursValue = value);
  }

  /** UTC clock fields of the request time. */
  get time(): Record<string, unknown> {
    if (!this.timeValue) {
      const atMs = this.now();
      const date = new Date(atMs);
      this.timeValue = {
        hour: date.getUTCHours(),
        minute: date.getUTCMinutes(),
        weekday: date.getUTCDay(),
        date: date.toISOString().slice(0, 10),
        unix: Math.floor(atMs / 1000),
      };
    }
    return this.timeValue;
  }
}
