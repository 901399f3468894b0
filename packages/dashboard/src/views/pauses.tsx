import { useState, type FormEvent } from 'react';
import { api, can } from '../api/client';
import type { Pause } from '../api/types';
import { Field } from '../components/field';
import { ErrorNotice } from '../components/states';
import { formatDateTime, formatRelative } from '../format';
import { useLiveEvents } from '../live';
import { useAction } from '../use-action';
import { useNow } from '../use-now';
import { useResource, type Resource } from '../use-resource';
import { useSession } from '../session';

/**
 * The kill switch in the dashboard (docs/kill-switch.md): what is paused, who paused it and why,
 * with Resume; and Pause buttons for admins. Pauses taken elsewhere (CLI, another dashboard, a
 * quarantine) arrive as `pause` events on the live stream.
 */

/** The pauses in force, kept current from the live stream. */
export function useActivePauses(): Resource<Pause[]> {
  const pauses = useResource(async () => (await api.get<{ pauses: Pause[] }>('/v1/pauses', { active: 'true' })).pauses, 'active-pauses');
  useLiveEvents((event) => {
    if (event.type === 'pause') pauses.reload();
  });
  return pauses;
}

/** The pause that stops an agent's calls (all of them: fleet, the agent, its role), if any. */
export function pauseOfAgent(pauses: readonly Pause[], agent: { id: string; role: string }): Pause | undefined {
  return pauses.find((p) => p.scope === 'fleet' || (p.scope === 'agent' && p.target === agent.id) || (p.scope === 'role' && p.target === agent.role));
}

export function describeScope(pause: { scope: Pause['scope']; target?: string | null | undefined }): string {
  return pause.scope === 'fleet' ? 'The whole fleet' : `${pause.scope === 'agent' ? 'Agent' : pause.scope === 'role' ? 'Role' : 'Tool'} ${pause.target ?? ''}`;
}

function actionKey(action: PauseAction): string {
  return `${action.scope}:${action.target ?? ''}`;
}

/** How long a pause from the dashboard lasts: until resumed, or ends by itself (the API's `for`). */
const PAUSE_LENGTHS: readonly (readonly [string, string])[] = [
  ['', 'until resumed'],
  ['15m', '15 minutes'],
  ['1h', '1 hour'],
  ['4h', '4 hours'],
  ['24h', '24 hours'],
];

export interface PauseAction {
  scope: Pause['scope'];
  /** The agent or role; for `tool`, chosen in the form from `tools`. */
  target?: string;
  label: string;
}

/**
 * Banner of the pauses that concern this page (`shows`), with Resume, and the Pause buttons
 * (`actions`) for admins. Pausing asks for a reason: it is recorded and shown to every refused caller.
 */
export function KillSwitch({ pauses, shows, actions, tools = [] }: { pauses: Resource<Pause[]>; shows: (pause: Pause) => boolean; actions: PauseAction[]; tools?: string[] }) {
  const { user } = useSession();
  const admin = can.pause(user.role);
  const now = useNow(30_000);
  // Actions are rebuilt on every render of the parent: the open one is remembered by its key.
  const [openKey, setOpenKey] = useState<string | undefined>();
  const open = actions.find((action) => actionKey(action) === openKey);
  const setOpen = (action: PauseAction | undefined): void => setOpenKey(action ? actionKey(action) : undefined);
  const [reason, setReason] = useState('');
  /** '' until resumed, else a duration the server parses (`for`). */
  const [length, setLength] = useState('');
  const [tool, setTool] = useState('');
  const { busy, error, run, reset } = useAction();
  const relevant = (pauses.data ?? []).filter(shows);

  const act = (request: () => Promise<unknown>): Promise<unknown> =>
    run(async () => {
      await request();
      pauses.reload();
      setOpen(undefined);
      setReason('');
      setLength('');
    });

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (!open) return;
    const target = open.scope === 'tool' ? tool : open.target;
    void act(() => api.post<Pause>('/v1/pauses', { scope: open.scope, ...(open.scope === 'fleet' ? {} : { target }), reason: reason.trim(), ...(length ? { for: length } : {}) }));
  };

  return (
    <div className="kill-switch">
      {relevant.length > 0 ? (
        <div className="notice error pause-banner" role="alert" data-testid="pause-banner">
          <ul>
            {relevant.map((pause) => (
              <li key={pause.id} data-pause={pause.id} data-scope={pause.scope}>
                <strong>
                  {describeScope(pause)} is {pause.kind === 'quarantine' ? 'quarantined' : 'paused'}
                </strong>{' '}
                by {pause.createdBy}, <span title={formatDateTime(pause.createdAt)}>{formatRelative(pause.createdAt, now)}</span>: {pause.reason}. Every call in it is refused
                (<span className="mono">paused</span>), approved calls included
                {pause.endsAt ? (
                  <>
                    , until <span title={formatDateTime(pause.endsAt)} data-testid="pause-ends">{formatDateTime(pause.endsAt)}</span> ({formatRelative(pause.endsAt, now)})
                  </>
                ) : null}
                .{' '}
                {admin ? (
                  <button type="button" className="primary" disabled={busy} onClick={() => void act(() => api.post<Pause>(`/v1/pauses/${encodeURIComponent(pause.id)}/resume`))}>
                    Resume
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {pauses.error ? <ErrorNotice error={pauses.error} /> : null}
      {admin ? (
        <div className="toolbar" role="group" aria-label="Kill switch">
          {actions.map((action) => (
            <button
              key={actionKey(action)}
              type="button"
              className="danger"
              disabled={busy}
              aria-expanded={openKey === actionKey(action)}
              onClick={() => {
                setOpen(openKey === actionKey(action) ? undefined : action);
                reset();
                if (action.scope === 'tool' && !tool) setTool(tools[0] ?? '');
              }}
            >
              {action.label}
            </button>
          ))}
        </div>
      ) : null}
      {admin && open ? (
        <form className="card pause-form" data-testid="pause-form" onSubmit={submit}>
          <p>
            {open.scope === 'tool' ? 'Every agent’s calls of the tool' : open.scope === 'fleet' ? 'Every call of every agent' : `Every call of ${describeScope(open).toLowerCase()}`} will be refused
            {length ? ` for ${PAUSE_LENGTHS.find(([value]) => value === length)?.[1] ?? length} (or until a person resumes it)` : ' until a person resumes it'}, approved calls included.
          </p>
          {open.scope === 'tool' ? (
            <Field label="Tool">
              {(id) =>
                tools.length > 0 ? (
                  <select id={id} value={tool} onChange={(e) => setTool(e.target.value)}>
                    {tools.map((name) => (
                      <option key={name}>{name}</option>
                    ))}
                  </select>
                ) : (
                  <input id={id} value={tool} onChange={(e) => setTool(e.target.value)} required />
                )
              }
            </Field>
          ) : null}
          <Field label="For">
            {(id) => (
              <select id={id} value={length} onChange={(e) => setLength(e.target.value)}>
                {PAUSE_LENGTHS.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Reason (recorded, and shown to every refused caller)">
            {(id) => <input id={id} value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={2000} placeholder="e.g. refund loop, INC-7" />}
          </Field>
          <div className="button-row">
            <button type="submit" className="danger" disabled={busy || reason.trim() === '' || (open.scope === 'tool' && tool === '')}>
              {busy ? 'Pausing…' : 'Pause now'}
            </button>
            <button type="button" onClick={() => setOpen(undefined)} disabled={busy}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
    </div>
  );
}
