import { lazy, Suspense, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, asApiError, can } from '../api/client';
import type { PolicyProblem, PolicySource, PolicyVersion, PolicyVersionDetail } from '../api/types';
import type { CodeEditorHandle } from '../components/code-editor';
import { ConfirmChange } from '../components/confirm-change';
import { Field } from '../components/field';
import { ErrorNotice, Loading } from '../components/states';
import { vocabularyOf } from '../components/vocabulary';
import { Link, useLocation } from '../router';
import { useSession } from '../session';
import { useAction } from '../use-action';
import { useResource } from '../use-resource';
import { SimulationPanel } from './simulation';

const VALIDATE_AFTER_MS = 500;

/** CodeMirror is a chunk of its own: only this view downloads it. */
const CodeEditor = lazy(() => import('../components/code-editor'));

type Validation =
  | { state: 'checking' }
  | { state: 'valid'; policies: string[] }
  | { state: 'invalid'; problems: PolicyProblem[] }
  | { state: 'error'; error: ApiError };

export function PolicyEditorView() {
  const { search } = useLocation();
  const from = search.get('from');
  const base = useResource(async () => {
    const list = await api.get<{ versions: PolicyVersion[]; active: number | null }>('/v1/policies');
    const version = from ? Number(from) : (list.active ?? list.versions[list.versions.length - 1]?.version);
    if (version === undefined) throw new ApiError(404, 'not_found', 'No policy version exists yet.');
    return api.get<PolicyVersionDetail>(`/v1/policies/${version}`);
  }, from ?? 'active');

  if (base.error) return <ErrorNotice error={base.error} action={<Link to="/policies">Back to the versions</Link>} />;
  if (!base.data) return <Loading what="Loading the policy sources" />;
  return <Editor key={base.data.version} base={base.data} />;
}

function Editor({ base }: { base: PolicyVersionDetail }) {
  const { user } = useSession();
  const author = can.author(user.role);
  const [files, setFiles] = useState<PolicySource[]>(base.sources);
  const [current, setCurrent] = useState(0);
  const [saved, setSaved] = useState<PolicyVersion | undefined>(undefined);
  const [activated, setActivated] = useState<number | undefined>(undefined);
  const { busy, running, error: saveError, run } = useAction<'save' | 'activate'>();
  const [note, setNote] = useState('');
  const [confirming, setConfirming] = useState<number | undefined>(undefined);
  const editor = useRef<CodeEditorHandle>(null);
  const vocabulary = useMemo(() => vocabularyOf(files), [files]);
  const changed = files.some((file, i) => file.text !== base.sources[i]?.text);

  // The server checks the draft shortly after each edit; a result for other text is stale.
  const [checked, setChecked] = useState<{ files: PolicySource[]; validation: Validation } | undefined>(undefined);
  useEffect(() => {
    if (!author) return;
    let stale = false;
    const timer = setTimeout(() => {
      api.post<{ policies: string[] }>('/v1/policies/validate', { name: base.bundle, files }).then(
        (result) => !stale && setChecked({ files, validation: { state: 'valid', policies: result.policies } }),
        (error: unknown) => {
          if (stale) return;
          const validation: Validation =
            error instanceof ApiError && error.code === 'invalid_policy'
              ? { state: 'invalid', problems: (error.details.errors as PolicyProblem[]) ?? [] }
              : { state: 'error', error: asApiError(error) };
          setChecked({ files, validation });
        },
      );
    }, VALIDATE_AFTER_MS);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [files, author, base.bundle]);
  const validation: Validation = checked?.files === files ? checked.validation : { state: 'checking' };

  const problems = validation.state === 'invalid' ? validation.problems : [];
  const file = files[current] as PolicySource;
  const edit = (text: string): void => {
    setSaved(undefined);
    setActivated(undefined);
    setFiles((list) => list.map((f, i) => (i === current ? { ...f, text } : f)));
  };
  const show = (problem: PolicyProblem): void => {
    const index = files.findIndex((f) => f.file === problem.file);
    if (index >= 0) setCurrent(index);
    if (problem.line !== null) requestAnimationFrame(() => editor.current?.goTo(problem.line as number, problem.column ?? null));
  };

  const save = async (): Promise<void> => {
    await run(async () => {
      const text = note.trim();
      setSaved(await api.post<PolicyVersion>('/v1/policies', { name: base.bundle, files, ...(text ? { note: text } : {}) }));
    }, 'save');
  };
  const activate = async (version: number): Promise<void> => {
    setConfirming(undefined);
    await run(async () => {
      setActivated((await api.post<PolicyVersion>(`/v1/policies/${version}/activate`)).version);
    }, 'activate');
  };

  return (
    <section aria-labelledby="editor-title">
      <p className="breadcrumb">
        <Link to="/policies">Policies</Link> / {author ? 'new version' : 'sources'}
      </p>
      <div className="page-head">
        <h1 id="editor-title">
          {author ? 'Edit' : 'Sources of'} bundle “{base.bundle}” <span className="muted">from version {base.version}</span>
        </h1>
      </div>
      {!author ? (
        <p className="notice info">
          You are signed in as a <strong>{user.role}</strong>: you can read the sources; policy authors and admins validate, simulate, save and activate versions.
        </p>
      ) : null}
      <div className="editor-layout">
        <div className="card">
          <div className="tabs" role="tablist" aria-label="Files of the bundle">
            {files.map((f, i) => {
              const count = problems.filter((p) => p.file === f.file).length;
              const edited = f.text !== base.sources[i]?.text;
              return (
                <button key={f.file} type="button" role="tab" aria-selected={i === current} className={i === current ? 'tab selected' : 'tab'} onClick={() => setCurrent(i)}>
                  {f.file}
                  {edited ? ' •' : ''}
                  {count ? <span className="tab-errors"> {count}</span> : null}
                </button>
              );
            })}
          </div>
          <Suspense fallback={<Loading what="Loading the editor" />}>
            <CodeEditor
              key={file.file}
              ref={editor}
              label={`${file.file} source`}
              value={file.text}
              readOnly={!author}
              vocabulary={vocabulary}
              problems={problems
                .filter((p) => p.file === file.file && p.line !== null)
                .map((p) => ({ line: p.line as number, column: p.column ?? null, message: p.message, code: p.code, ...(p.detail !== undefined ? { detail: p.detail } : {}) }))}
              onChange={edit}
            />
          </Suspense>
          {author ? (
            <p className="muted small">
              Tab indents; press Esc, then Tab, to leave the editor. Ctrl+Space completes tool names, <code>args.</code> fields and CEL functions. Checked by the server as you type.
            </p>
          ) : null}
        </div>
        {author ? (
          <aside className="side">
            <div className="card" aria-live="polite">
              <h2>Validation</h2>
              <ValidationStatus validation={validation} onShow={show} />
            </div>
            <div className="card">
              <h2>Save and activate</h2>
              {saveError ? <ErrorNotice error={saveError} /> : null}
              {!saved ? (
                <Field label="Note (what changed and why)">
                  {(id) => <textarea id={id} className="note" rows={2} maxLength={2000} value={note} onChange={(e) => setNote(e.target.value)} placeholder="e.g. Lower the refund budget to $40 after INC-7" />}
                </Field>
              ) : null}
              {saved ? (
                <div className="notice ok" role="status" data-testid="saved">
                  Stored as version {saved.version} (inactive). <Link to="/policies">Compare it with the others</Link>.
                </div>
              ) : null}
              {activated !== undefined ? (
                <p className="notice ok" role="status" data-testid="activated">
                  Version {activated} is active: the next decision uses it.
                </p>
              ) : null}
              <div className="button-row">
                <button type="button" className="primary" onClick={() => void save()} disabled={busy || validation.state !== 'valid' || !changed || saved !== undefined}>
                  {running === 'save' ? 'Saving…' : 'Save as new version'}
                </button>
                {saved && activated === undefined ? (
                  <button type="button" className="primary" onClick={() => setConfirming(saved.version)} disabled={busy}>
                    {running === 'activate' ? 'Activating…' : `Activate version ${saved.version}`}
                  </button>
                ) : null}
              </div>
              {!changed ? <p className="muted small">Change something to save a new version.</p> : null}
            </div>
          </aside>
        ) : null}
      </div>
      {author ? <SimulationPanel bundle={base.bundle} files={files} valid={validation.state === 'valid'} /> : null}
      {confirming !== undefined ? <ConfirmActivate target={confirming} onConfirm={() => void activate(confirming)} onCancel={() => setConfirming(undefined)} /> : null}
    </section>
  );
}

function ValidationStatus({ validation, onShow }: { validation: Validation; onShow(problem: PolicyProblem): void }) {
  switch (validation.state) {
    case 'checking':
      return <p className="muted" data-testid="validation">Checking…</p>;
    case 'valid':
      return (
        <p className="good" data-testid="validation">
          ✓ Valid: {validation.policies.length} policies ({validation.policies.join(', ')})
        </p>
      );
    case 'error':
      return <ErrorNotice error={validation.error} />;
    case 'invalid':
      return (
        <div data-testid="validation">
          <p className="bad">
            ✗ {validation.problems.length} problem{validation.problems.length === 1 ? '' : 's'}
          </p>
          <ul className="problems">
            {validation.problems.map((problem, i) => (
              <li key={i}>
                <button type="button" className="link-button problem" onClick={() => onShow(problem)}>
                  <span className="mono">
                    {problem.file}
                    {problem.line !== null ? `:${problem.line}` : ''}
                    {problem.line !== null && problem.column ? `:${problem.column}` : ''}
                  </span>
                </button>{' '}
                <code className="muted">{problem.code}</code> {problem.message}
                {problem.detail ? <div className="muted small problem-detail">{problem.detail}</div> : null}
              </li>
            ))}
          </ul>
        </div>
      );
  }
}

/** The confirmation for the version just saved: compared with whichever version is active now. */
function ConfirmActivate({ target, onConfirm, onCancel }: { target: number; onConfirm(): void; onCancel(): void }) {
  const list = useResource(() => api.get<{ active: number | null }>('/v1/policies'), `active-${target}`);
  if (!list.data) return list.error ? <ErrorNotice error={list.error} /> : null;
  return <ConfirmChange action="activate" target={target} active={list.data.active} onConfirm={onConfirm} onCancel={onCancel} />;
}
