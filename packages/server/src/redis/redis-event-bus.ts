import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MemoryEventBus, type AirlockEvent, type EventBus, type EventType } from '../services/events.js';

/** Event types published on a channel of their own (one per decision or outcome report: too many to send every instance). */
const ON_DEMAND: readonly EventType[] = ['decision', 'outcome'];

interface Envelope {
  origin: string;
  event: AirlockEvent;
}

/**
 * Live events shared by every instance over Redis pub/sub: an event published on one instance
 * reaches the subscribers of all of them (the dashboard's feed, long-polls waiting for an
 * approval, SDKs following policy activations). Local subscribers get local events at once; the
 * instance ignores its own events when they come back from Redis.
 *
 * Pub/sub is at-most-once: a message sent while an instance is disconnected is lost to it. Nothing
 * depends on it for correctness: approvals and policies are read from the database, events only
 * say "look again" (long-polls also wake on their timeout; instances re-read the active policy
 * when they reconnect).
 *
 * Decision events, one per decision, travel on a channel of their own that an instance subscribes
 * to only while it has a listener for them (a dashboard feed): on the shared channel every
 * instance received and parsed every other instance's decisions, a cost per decision that grew
 * with the number of instances (docs/scale-out.md, capacity model). Redis drops a message that
 * no one is subscribed to, so with no feed open a decision event costs one PUBLISH and nothing else.
 * Outcome events, one per outcome report, travel the same way.
 */
export class RedisEventBus implements EventBus {
  readonly instance = randomUUID();
  private readonly local = new MemoryEventBus();
  private readonly channel: string;
  /** Types on channels of their own, subscribed on demand: type → channel. */
  private readonly onDemand: Map<EventType, string>;
  /** Local listeners per on-demand type. */
  private readonly demand = new Map<EventType, number>();

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
  ) {
    this.channel = `${prefix}events`;
    this.onDemand = new Map(ON_DEMAND.map((type) => [type, `${prefix}events:${type}`]));
  }

  /** Subscribes on a dedicated connection (a subscribed connection can do nothing else). */
  static async connect(publisher: Redis, options: { prefix?: string } = {}): Promise<RedisEventBus> {
    const subscriber = publisher.duplicate();
    const bus = new RedisEventBus(publisher, subscriber, options.prefix ?? 'airlock:');
    subscriber.on('message', (channel: string, message: string) => bus.receive(channel, message));
    subscriber.on('error', () => undefined);
    // A SUBSCRIBE refused while disconnected is made again on reconnection (ioredis resubscribes
    // only channels that were subscribed).
    subscriber.on('ready', () => bus.resubscribe());
    if (subscriber.status === 'wait') await subscriber.connect();
    await subscriber.subscribe(bus.channel);
    return bus;
  }

  publish(event: AirlockEvent): void {
    this.local.publish(event);
    const envelope: Envelope = { origin: this.instance, event };
    // At most once, never in the way of the caller: a lost event is a missed refresh, not a lost fact.
    this.publisher.publish(this.onDemand.get(event.type) ?? this.channel, JSON.stringify(envelope)).catch(() => undefined);
  }

  subscribe(types: readonly EventType[], listener: (event: AirlockEvent) => void): () => void {
    const unsubscribe = this.local.subscribe(types, listener);
    const wanted = [...new Set(types)].filter((type) => this.onDemand.has(type));
    for (const type of wanted) this.want(type, 1);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      unsubscribe();
      for (const type of wanted) this.want(type, -1);
    };
  }

  /** Local listeners for an on-demand type: the first subscribes its channel, the last leaves it. */
  private want(type: EventType, delta: 1 | -1): void {
    const before = this.demand.get(type) ?? 0;
    const after = before + delta;
    this.demand.set(type, after);
    const channel = this.onDemand.get(type) as string;
    if (before === 0 && after > 0) this.subscriber.subscribe(channel).catch(() => undefined);
    else if (before > 0 && after === 0) this.subscriber.unsubscribe(channel).catch(() => undefined);
  }

  private resubscribe(): void {
    for (const [type, count] of this.demand) if (count > 0) this.subscriber.subscribe(this.onDemand.get(type) as string).catch(() => undefined);
  }

  /** Other instances may have subscribers: every event is published. */
  hasSubscribers(): boolean {
    return true;
  }

  /** Reconnection hook: lets a service re-read state it may have missed events about. */
  onReconnect(listener: () => void): void {
    this.subscriber.on('ready', listener);
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }

  private isOnDemand(channel: string): boolean {
    for (const name of this.onDemand.values()) if (name === channel) return true;
    return false;
  }

  private receive(channel: string, message: string): void {
    if (channel !== this.channel && !this.isOnDemand(channel)) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
    } catch {
      return;
    }
    if (envelope.origin === this.instance) return;
    this.local.publish(envelope.event);
  }
}
