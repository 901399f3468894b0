import type { ReactNode } from 'react';
import type { ApiError } from '../api/client';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

/** An error as the server stated it: its message, and its code for reference. */
export function ErrorNotice({ error, action }: { error: ApiError | Error; action?: ReactNode }) {
  const code = 'code' in error ? (error as ApiError).code : undefined;
  return (
    <div className="notice error" role="alert">
      <strong>{error.message}</strong>
      {code ? <code className="muted"> {code}</code> : null}
      {action ? <div className="notice-action">{action}</div> : null}
    </div>
  );
}

/** What an action ended with: a success line, or the server's refusal. */
export type Outcome = { ok: string } | { error: ApiError } | undefined;

export function OutcomeNotice({ outcome }: { outcome: Outcome }) {
  if (!outcome) return null;
  if ('error' in outcome) return <ErrorNotice error={outcome.error} />;
  return (
    <p className="notice ok" role="status">
      {outcome.ok}
    </p>
  );
}
