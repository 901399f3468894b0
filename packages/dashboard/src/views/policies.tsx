import { useState } from 'react';
import { api, ApiError, can } from '../api/client';
import type { FileDiff, PolicyVersion } from '../api/types';
import { ConfirmChange } from '../components/confirm-change';
import { DiffView } from '../components/diff-view';
import { Field } from '../components/field';
import { Empty, ErrorNotice, Loading, OutcomeNotice } from '../components/states';
import { formatDateTime } from '../format';
import { Link } from '../router';
import { useSession } from '../session';
import { useAction } from '../use-action';
import { useResource } from '../use-resource';
import { ShadowPanel, SuggestionsPanel } from './lifecycle';

interface Versions {
  versions: PolicyVersion[];
  active: number | null;
}

export function PoliciesView() {
  const { user } = useSession();
  const versions = useResource(() => api.get<Versions>('/v1/policies'), 'versions');
  const action = useAction({ words: readable });
  const [confirming, setConfirming] = useState<{ action: 'activate' | 'rollback'; target: number } | undefined>(undefined);
  const list = [...(versions.data?.versions ?? [])].reverse();
  const author = can.author(user.role);

  const act = async (label: string, path: string): Promise<void> => {
    setConfirming(undefined);
    await action.run(async () => {
      const result = await api.post<PolicyVersion>(path);
      versions.reload();
      return `Version ${result.version} is now active.`;
    }, label);
  };

  // Roll back goes to the version active before the current one: the activation trail names it.
  const askRollback = async (): Promise<void> => {
    await action.run(async () => {
      const target = await previousActive();
      if (target === undefined) throw new ApiError(409, 'no_previous_version', 'no earlier version was ever active');
      setConfirming({ action: 'rollback', target });
    });
  };

  return (
    <section aria-labelledby="policies-title">
      <div className="page-head">
        <h1 id="policies-title">Policies</h1>
        <div className="toolbar">
          <Link to="/policies/edit" className="button primary">
            {author ? 'Edit a new version' : 'View the active sources'}
          </Link>
          {author ? (
            <button type="button" onClick={() => void askRollback()} disabled={action.busy}>
              {action.running === 'rollback' ? 'Rolling back…' : 'Roll back'}
            </button>
          ) : null}
        </div>
      </div>
      <OutcomeNotice outcome={action.outcome} />
      {confirming ? (
        <ConfirmChange
          action={confirming.action}
          target={confirming.target}
          active={versions.data?.active ?? null}
          onConfirm={() =>
            void (confirming.action === 'rollback'
              ? act('rollback', '/v1/policies/rollback')
              : act(`activate-${confirming.target}`, `/v1/policies/${confirming.target}/activate`))
          }
          onCancel={() => setConfirming(undefined)}
        />
      ) : null}
      {versions.error ? <ErrorNotice error={versions.error} action={<button onClick={versions.reload}>Try again</button>} /> : null}
      {versions.loading ? <Loading what="Loading policy versions" /> : null}
      {versions.data && list.length === 0 ? <Empty>No policy version was uploaded yet.</Empty> : null}
      {list.length > 0 ? (
        <div className="card">
          <h2>Versions</h2>
          <table data-testid="versions">
            <thead>
              <tr>
                <th scope="col" className="num">Version</th>
                <th scope="col">Bundle</th>
                <th scope="col">Note</th>
                <th scope="col">Files</th>
                <th scope="col">Uploaded</th>
                <th scope="col">Digest</th>
                <th scope="col">State</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((version) => (
                <tr key={version.version} className={version.active ? 'active-version' : undefined} data-version={version.version}>
                  <td className="num">{version.version}</td>
                  <td>{version.bundle}</td>
                  <td className="small" data-testid="version-note">{version.note ?? <span className="muted">—</span>}</td>
                  <td className="small">{version.files.join(', ')}</td>
                  <td className="small">
                    {formatDateTime(version.createdAt)} by {version.createdBy}
                  </td>
                  <td className="mono small">{version.digest.slice(0, 10)}</td>
                  <td>{version.active ? <span className="badge effect-allow">active</span> : <span className="muted">inactive</span>}</td>
                  <td>
                    <div className="actions-cell">
                      <Link to={`/policies/edit?from=${version.version}`}>{author ? 'Edit from here' : 'Sources'}</Link>
                      {author && !version.active ? (
                        <button type="button" onClick={() => setConfirming({ action: 'activate', target: version.version })} disabled={action.busy}>
                          {action.running === `activate-${version.version}` ? 'Activating…' : 'Activate'}
                        </button>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {list.length > 1 ? <DiffPicker versions={list} active={versions.data?.active ?? null} /> : null}
      {versions.data ? <ShadowPanel versions={list} active={versions.data.active} onChanged={versions.reload} /> : null}
      <SuggestionsPanel onUploaded={versions.reload} />
    </section>
  );
}

function DiffPicker({ versions, active }: { versions: PolicyVersion[]; active: number | null }) {
  const newest = versions[0]?.version ?? 1;
  const [from, setFrom] = useState(active !== null && active !== newest ? active : (versions[1]?.version ?? newest));
  const [to, setTo] = useState(newest);
  const diff = useResource(() => api.get<{ files: FileDiff[] }>('/v1/policies/diff', { from, to }), `${from}-${to}`);
  return (
    <div className="card">
      <h2>Compare versions</h2>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Versions to compare">
        <Field label="From">
          {(id) => (
            <select id={id} value={from} onChange={(e) => setFrom(Number(e.target.value))}>
              {versions.map((v) => (
                <option key={v.version} value={v.version}>
                  {v.version}
                  {v.active ? ' (active)' : ''}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="To">
          {(id) => (
            <select id={id} value={to} onChange={(e) => setTo(Number(e.target.value))}>
              {versions.map((v) => (
                <option key={v.version} value={v.version}>
                  {v.version}
                  {v.active ? ' (active)' : ''}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>
      {diff.error ? <ErrorNotice error={diff.error} /> : null}
      {diff.loading ? <Loading what="Comparing" /> : null}
      {diff.data ? <DiffView files={diff.data.files} /> : null}
    </div>
  );
}

/** The version that was active before the current one, from the activation trail (newest first). */
async function previousActive(): Promise<number | undefined> {
  const trail = await api.get<{ records: { data: { version?: number } }[] }>('/v1/audit', { type: 'policy.activated', limit: 200 });
  const versions = trail.records.map((r) => r.data.version).filter((v): v is number => typeof v === 'number');
  const current = versions[0];
  return versions.find((v) => v !== current);
}

/** Refusals an author meets here, in words; the code stays for looking up in docs/errors.md. */
function readable(error: ApiError): ApiError {
  const words: Record<string, string> = {
    no_previous_version: 'There is nothing to roll back to: no earlier version was ever active. Activate a version from the list instead.',
    not_found: 'That version no longer exists. Reload the list and pick another.',
    forbidden: 'Your role cannot change the active policy; ask a policy author or an admin.',
  };
  const message = words[error.code];
  return message ? new ApiError(error.status, error.code, message, error.details) : error;
}
