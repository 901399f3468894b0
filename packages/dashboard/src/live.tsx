import { createContext, useContext, useEffect, useEffectEvent, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Approval, DecisionEvent } from './api/types';

export type LiveEvent =
  | { type: 'decision'; data: DecisionEvent }
  | { type: 'approval'; data: Approval }
  /** Outcomes of the agent's calls recorded, or reported again (POST /v1/outcomes). */
  | { type: 'outcome'; data: { agent: string; decisions: string[] } }
  | { type: 'pause'; data: { id: string } };
export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

interface LiveValue {
  status: LiveStatus;
  subscribe(listener: (event: LiveEvent) => void): () => void;
}

const LiveContext = createContext<LiveValue | undefined>(undefined);
const RETRY_MS = 5000;
/** How long `useLiveReload` gathers events before it fetches again. */
const LIVE_RELOAD_MS = 1500;

/** One EventSource on GET /v1/events for the whole app; views subscribe to what they show. */
export function LiveEvents({ children }: { children: ReactNode }) {
  const listeners = useRef(new Set<(event: LiveEvent) => void>());
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const source = new EventSource('/v1/events');
    let retry: ReturnType<typeof setTimeout> | undefined;
    const deliver = (type: LiveEvent['type']) => (message: MessageEvent<string>) => {
      const event = { type, data: JSON.parse(message.data) } as LiveEvent;
      for (const listener of [...listeners.current]) listener(event);
    };
    source.addEventListener('decision', deliver('decision'));
    source.addEventListener('approval', deliver('approval'));
    source.addEventListener('outcome', deliver('outcome'));
    source.addEventListener('pause', deliver('pause'));
    source.onopen = () => setStatus('live');
    source.onerror = () => {
      // A dropped stream reconnects by itself (the server asks for 2 s); a refused one is closed.
      if (source.readyState !== EventSource.CLOSED) return setStatus('reconnecting');
      setStatus('offline');
      retry = setTimeout(() => setAttempt((n) => n + 1), RETRY_MS);
    };
    return () => {
      clearTimeout(retry);
      source.close();
    };
  }, [attempt]);
  const subscribe = useMemo(
    () => (listener: (event: LiveEvent) => void) => {
      listeners.current.add(listener);
      return () => {
        listeners.current.delete(listener);
      };
    },
    [],
  );
  const value = useMemo(() => ({ status, subscribe }), [status, subscribe]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLiveStatus(): LiveStatus {
  return useLive().status;
}

/** Calls `listener` for every live event while the component is mounted. */
export function useLiveEvents(listener: (event: LiveEvent) => void): void {
  const { subscribe } = useLive();
  const onEvent = useEffectEvent(listener);
  useEffect(() => subscribe((event) => onEvent(event)), [subscribe]);
}

/**
 * Fetches again (`reload`) after the live events a view `wants`, at most once per `delayMs`: the
 * events of a burst (a batch of outcomes, an approval's steps) wait for the same fetch.
 */
export function useLiveReload(wants: (event: LiveEvent) => boolean, reload: () => void, delayMs = LIVE_RELOAD_MS): void {
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(pending.current), []);
  useLiveEvents((event) => {
    if (!wants(event)) return;
    pending.current ??= setTimeout(() => {
      pending.current = undefined;
      reload();
    }, delayMs);
  });
}

/** The agent an event is about (a pause event names none). */
export function agentOf(event: LiveEvent): string | undefined {
  return event.type === 'pause' ? undefined : event.data.agent;
}

function useLive(): LiveValue {
  const live = useContext(LiveContext);
  if (!live) throw new Error('useLive outside LiveEvents');
  return live;
}
