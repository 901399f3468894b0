import { defineRoute } from '../http/route.js';
import { openEventStream } from '../http/sse.js';
import type { Services } from '../services/services.js';

export interface StreamOptions {
  heartbeatMs: number;
  /** Open streams, ended on shutdown. */
  open: Set<() => void>;
}

export function streamRoutes(services: Services, options: StreamOptions) {
  const { events, policies } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/policy/stream',
      tag: 'policies',
      summary: 'Server-Sent Events: the active policy now, then a `policy` event on every activation.',
      produces: 'text/event-stream',
      handler({ reply }) {
        const stream = openEventStream(reply, options.heartbeatMs, options.open);
        const current = policies.activeEvent();
        if (current) stream.send('policy', current);
        stream.onClose(events.subscribe(['policy'], (event) => stream.send(event.type, event.data)));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/events',
      tag: 'events',
      summary: 'Server-Sent Events: `decision` and `approval` events as they happen.',
      produces: 'text/event-stream',
      handler({ reply }) {
        const stream = openEventStream(reply, options.heartbeatMs, options.open);
        stream.onClose(events.subscribe(['decision', 'approval'], (event) => stream.send(event.type, event.data)));
      },
    }),
  ];
}
