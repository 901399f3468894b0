import { Fragment, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { EFFECTS, type Agent, type Decision, type PolicySource, type ReplayReport, type Simulation } from '../api/types';
import { Field } from '../components/field';
import { EffectBadge } from '../components/effect';
import { ErrorNotice, Loading } from '../components/states';
import { EFFECT_LABEL, formatDateTime, formatTime, summarizeArgs } from '../format';
import { useAction } from '../use-action';
import { useResource } from '../use-resource';

const DEFAULT_LAST = 1000;
const MAX_LAST = 100_000;

/** Try the draft without activating it: on recorded traffic, or on one call written here. */
export function SimulationPanel({ bundle, files, valid }: { bundle: string; files: PolicySource[]; valid: boolean }) {
  const [mode, setMode] = useState<'recorded' | 'call'>('recorded');
  const [last, setLast] = useState(String(DEFAULT_LAST));
  const agents = useResource(async () => (await api.get<{ agents: Agent[] }>('/v1/agents')).agents, 'agents');
  const [agent, setAgent] = useState('');
  const [tool, setTool] = useState('');
  const [args, setArgs] = useState('{\n  \n}');
  const [result, setResult] = useState<Simulation | undefined>(undefined);
  const { busy, error, run: simulate } = useAction();

  const argsError = mode === 'call' ? jsonObjectError(args) : undefined;
  const lastNumber = Number(last);
  const lastError = mode === 'recorded' && (!Number.isInteger(lastNumber) || lastNumber < 1 || lastNumber > MAX_LAST) ? `a whole number from 1 to ${MAX_LAST.toLocaleString()}` : undefined;
  const chosenAgent = agent || agents.data?.[0]?.id || '';

  const run = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (argsError || lastError) return;
    const failed = await simulate(async () => {
      const input = mode === 'recorded' ? { last: lastNumber } : { call: { agent: chosenAgent, tool: tool.trim(), args: JSON.parse(args) as Record<string, unknown> } };
      setResult(await api.post<Simulation>('/v1/policies/simulate', { name: bundle, files, ...input }));
    });
    if (failed) setResult(undefined);
  };

  return (
    <div className="card simulation">
      <h2>Simulate this draft</h2>
      <form onSubmit={(e) => void run(e)} aria-label="Simulation">
        <fieldset className="radio-row">
          <legend>Against</legend>
          <label>
            <input type="radio" name="sim-mode" checked={mode === 'recorded'} onChange={() => setMode('recorded')} /> the last recorded calls
          </label>
          <label>
            <input type="radio" name="sim-mode" checked={mode === 'call'} onChange={() => setMode('call')} /> one call written here
          </label>
        </fieldset>
        {mode === 'recorded' ? (
          <label className="inline">
            Number of calls
            <input type="number" min={1} max={MAX_LAST} value={last} onChange={(e) => setLast(e.target.value)} aria-invalid={lastError !== undefined} />
            {lastError ? <span className="field-error">{lastError}</span> : null}
          </label>
        ) : (
          <div className="call-form">
            <Field label="Agent">
              {(id) => (
                <select id={id} value={chosenAgent} onChange={(e) => setAgent(e.target.value)}>
                  {(agents.data ?? []).map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.id} ({a.role}, {a.environment})
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <label>
              Tool
              <input value={tool} onChange={(e) => setTool(e.target.value)} placeholder="issue_refund" required className="mono" />
            </label>
            <label className="grow">
              Arguments (JSON)
              <textarea rows={4} className="code" value={args} onChange={(e) => setArgs(e.target.value)} spellCheck={false} aria-invalid={argsError !== undefined} />
              {argsError ? <span className="field-error">{argsError}</span> : null}
            </label>
          </div>
        )}
        <div className="button-row">
          <button type="submit" className="primary" disabled={busy || !valid}>
            {busy ? 'Simulating…' : 'Simulate'}
          </button>
          {!valid ? <span className="muted small">Fix the validation problems first.</span> : null}
        </div>
      </form>
      {error ? <ErrorNotice error={error} /> : null}
      {busy ? <Loading what="Replaying" /> : null}
      {result && !busy ? <SimulationResult result={result} /> : null}
    </div>
  );
}

function jsonObjectError(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? undefined : 'the arguments must be a JSON object';
  } catch (error) {
    return `not JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function SimulationResult({ result }: { result: Simulation }) {
  if (result.mode === 'call') {
    return (
      <div className="sim-result" data-testid="simulation-result">
        <p className={result.flipped ? 'notice warn' : 'notice ok'}>{result.flipped ? 'This call would be decided differently.' : 'Same effect as the active version.'}</p>
        <div className="split">
          <DecisionCard title={result.current ? `Active version ${result.current.version}` : 'No active version'} decision={result.current?.decision} />
          <DecisionCard title="Draft" decision={result.candidate} />
        </div>
      </div>
    );
  }
  const { report } = result;
  return (
    <div className="sim-result" data-testid="simulation-result">
      <p>
        Replayed <strong>{report.calls.toLocaleString()}</strong> recorded calls
        {result.from && result.to ? ` from ${formatDateTime(result.from)} to ${formatDateTime(result.to)}` : ''}, in time order, with fresh limit state.{' '}
        <strong data-testid="flip-count">{report.flipped.toLocaleString()}</strong> would flip.
      </p>
      <ReportTables report={report} candidate="Draft" />
    </div>
  );
}

/** Effect totals before and after, and the flips grouped by the candidate's rule, with examples. */
export function ReportTables({ report, candidate }: { report: ReplayReport; candidate: string }) {
  return (
    <>
      <table className="compact totals">
        <thead>
          <tr>
            <th scope="col">Effect</th>
            <th scope="col" className="num">Recorded</th>
            <th scope="col" className="num">{candidate}</th>
            <th scope="col" className="num">Change</th>
          </tr>
        </thead>
        <tbody>
          {EFFECTS.map((effect) => {
            const delta = report.after[effect] - report.before[effect];
            return (
              <tr key={effect}>
                <td>
                  <EffectBadge effect={effect} />
                </td>
                <td className="num">{report.before[effect]}</td>
                <td className="num">{report.after[effect]}</td>
                <td className="num">{delta > 0 ? `+${delta}` : delta}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {report.flips.length === 0 ? (
        <p className="muted">No decision would change.</p>
      ) : (
        <table className="flips" data-testid="flips">
          <thead>
            <tr>
              <th scope="col">From</th>
              <th scope="col">To</th>
              <th scope="col">{candidate} rule</th>
              <th scope="col" className="num">Calls</th>
              <th scope="col">Examples</th>
            </tr>
          </thead>
          <tbody>
            {report.flips.map((flip) => (
              <Fragment key={`${flip.from}-${flip.to}-${flip.rule ?? ''}`}>
                <tr>
                  <td>
                    <EffectBadge effect={flip.from} />
                  </td>
                  <td>
                    <EffectBadge effect={flip.to} />
                  </td>
                  <td className="mono">{flip.rule ?? '(default / risk / error)'}</td>
                  <td className="num">{flip.count}</td>
                  <td>
                    <ul className="examples">
                      {flip.examples.map((example, i) => (
                        <li key={example.id ?? i}>
                          <span className="muted">{formatTime(example.request.at)}</span> {example.request.agent} <span className="mono">{example.request.tool}</span>{' '}
                          <span className="mono small">{summarizeArgs(example.request.args)}</span> — was <span className="mono">{example.before.rule ?? EFFECT_LABEL[example.before.effect]}</span>: {example.after.reason}
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function DecisionCard({ title, decision }: { title: string; decision: Decision | undefined }) {
  return (
    <div className="decision-card">
      <h3>{title}</h3>
      {decision ? (
        <dl className="facts">
          <dt>Effect</dt>
          <dd>
            <EffectBadge effect={decision.effect} />
          </dd>
          <dt>Rule</dt>
          <dd className="mono">{decision.rule ?? '—'}</dd>
          <dt>Reason</dt>
          <dd>{decision.reason}</dd>
          <dt>Risk</dt>
          <dd>
            {decision.risk.level} ({decision.risk.score})
          </dd>
        </dl>
      ) : (
        <p className="muted">—</p>
      )}
    </div>
  );
}
