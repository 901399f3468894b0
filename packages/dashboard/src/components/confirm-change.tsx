import { useEffect, useRef } from 'react';
import { api } from '../api/client';
import type { FileDiff, PolicyVersionDetail, Simulation } from '../api/types';
import { useResource } from '../use-resource';
import { DiffView } from './diff-view';
import { ErrorNotice, Loading } from './states';

/** How many recorded decisions the confirmation replays against the version about to go live. */
export const CONFIRM_REPLAY = 1000;

/**
 * Asks before a version goes live (activate, roll back): what changes against the active version
 * (the diff), and how many of the last recorded decisions it would decide differently.
 */
export function ConfirmChange({ action, target, active, onConfirm, onCancel }: { action: 'activate' | 'rollback'; target: number; active: number | null; onConfirm(): void; onCancel(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
  }, []);
  const diff = useResource(
    async () => (active === null || active === target ? { files: [] as FileDiff[] } : api.get<{ files: FileDiff[] }>('/v1/policies/diff', { from: active, to: target })),
    `${active}-${target}`,
  );
  const flips = useResource(async () => {
    const version = await api.get<PolicyVersionDetail>(`/v1/policies/${target}`);
    const result = await api.post<Simulation>('/v1/policies/simulate', { name: version.bundle, files: version.sources, last: CONFIRM_REPLAY });
    return result.mode === 'recorded' ? result.report : undefined;
  }, `flips-${target}`);
  const verb = action === 'rollback' ? 'Roll back' : 'Activate';
  return (
    <dialog ref={dialog} className="confirm" aria-labelledby="confirm-title" onCancel={onCancel} data-testid="confirm-change">
      <h2 id="confirm-title">
        {verb} to version {target}?
      </h2>
      <p>
        {active === null ? 'No version is active yet.' : active === target ? `Version ${target} is already active.` : `Version ${active} is active now; version ${target} decides every call from the moment you confirm.`}
      </p>
      <h3>Recorded decisions</h3>
      {flips.loading ? <Loading what="Replaying recorded decisions" /> : null}
      {flips.error ? <ErrorNotice error={flips.error} /> : null}
      {flips.data && flips.data.calls > 0 ? (
        <p data-testid="confirm-flips">
          Replayed the last <strong>{flips.data.calls.toLocaleString()}</strong> recorded decisions: <strong data-testid="confirm-flip-count">{flips.data.flipped.toLocaleString()}</strong> would be decided differently.
        </p>
      ) : null}
      {flips.data?.calls === 0 || (!flips.loading && !flips.error && flips.data === undefined) ? <p className="muted">No recorded decisions to replay yet.</p> : null}
      <h3>Changes</h3>
      {diff.loading ? <Loading what="Comparing with the active version" /> : null}
      {diff.error ? <ErrorNotice error={diff.error} /> : null}
      {diff.data ? <DiffView files={diff.data.files} /> : null}
      <div className="button-row">
        <button type="button" className="primary" onClick={onConfirm}>
          {verb} to version {target}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
