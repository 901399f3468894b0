import { defineRoute } from '../http/route.js';
import type { Principal } from '../http/principal.js';
import { openEventStream, streamCaller, type EventStream } from '../http/sse.js';
import type { Services } from '../services/services.js';

export interface StreamOptions {
  heartbeatMs: number;
  /** Open streams, ended on shutdown. */
  open: Set<() => void>;
}

export function streamRoutes(services: Services, options: StreamOptions) {
  const { events, policies, auth, tokens } = services;
  /** A person's stream lives as long as their session (or API token): it ends at logout (revocation) and at expiry. */
  const bindToSession = (stream: EventStream, principal: Principal): void => {
    if (principal.kind !== 'user') return;
    const { tokenId } = principal.user;
    if (tokenId !== undefined) {
      stream.keepWhile(() => tokens.active(tokenId));
      return;
    }
    const hash = principal.user.sessionHash;
    stream.onClose(auth.onSessionEnd(hash, () => stream.end()));
    stream.keepWhile(() => auth.sessionActive(hash));
  };
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/policy/stream',
      tag: 'policies',
      summary: 'Server-Sent Events: the active policy now, then a `policy` event on every activation.',
      produces: 'text/event-stream',
      handler({ reply, principal }) {
        const stream = openEventStream(reply, options.heartbeatMs, options.open, streamCaller(principal));
        bindToSession(stream, principal);
        const current = policies.activeEvent();
        if (current) stream.send('policy', current);
        stream.onClose(events.subscribe(['policy'], (event) => stream.send(event.type, event.data)));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/events',
      tag: 'events',
      summary: 'Server-Sent Events: `decision`, `approval`, `outcome` (`{agent, decisions}`: outcomes recorded or reported again), `anomaly` and `pause` events as they happen.',
      produces: 'text/event-stream',
      handler({ reply, principal }) {
        const stream = openEventStream(reply, options.heartbeatMs, options.open, streamCaller(principal));
        bindToSession(stream, principal);
        stream.onClose(events.subscribe(['decision', 'approval', 'outcome', 'anomaly', 'pause'], (event) => stream.send(event.type, event.data)));
      },
    }),
  ];
}
