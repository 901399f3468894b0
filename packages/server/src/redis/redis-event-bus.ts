import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MemoryEventBus, type AirlockEvent, type EventBus, type EventType } from '../services/events.js';

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
 */
export class RedisEventBus implements EventBus {
  readonly instance = randomUUID();
  private readonly local = new MemoryEventBus();
  private readonly channel: string;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
  ) {
    this.channel = `${prefix}events`;
  }

  /** Subscribes on a dedicated connection (a subscribed connection can do nothing else). */
  static async connect(publisher: Redis, options: { prefix?: string } = {}): Promise<RedisEventBus> {
    const subscriber = publisher.duplicate();
    const bus = new RedisEventBus(publisher, subscriber, options.prefix ?? 'airlock:');
    subscriber.on('message', (channel: string, message: string) => bus.receive(channel, message));
    subscriber.on('error', () => undefined);
    if (subscriber.status === 'wait') await subscriber.connect();
    await subscriber.subscribe(bus.channel);
    return bus;
  }

  publish(event: AirlockEvent): void {
    this.local.publish(event);
    const envelope: Envelope = { origin: this.instance, event };
    // At most once, never in the way of the caller: a lost event is a missed refresh, not a lost fact.
    this.publisher.publish(this.channel, JSON.stringify(envelope)).catch(() => undefined);
  }

  subscribe(types: readonly EventType[], listener: (event: AirlockEvent) => void): () => void {
    return this.local.subscribe(types, listener);
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

  private receive(channel: string, message: string): void {
    if (channel !== this.channel) return;
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
