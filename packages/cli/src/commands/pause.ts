import type { components } from '@airlock/sdk/api';
import { CommandFailure, withServer as withSession, type Env, type Io, type ServerLoginOptions } from './server-client.js';

type PauseView = components['schemas']['Pause'];
type PauseScope = PauseView['scope'];

/**
 * `airlock pause`, `airlock resume` and `airlock pauses`: the kill switch from a terminal
 * (docs/kill-switch.md). They sign in as a person (an admin, for pause and resume) with
 * a personal API token (AIRLOCK_TOKEN, or `airlock login`'s) or `--user`/`--password`
 * (AIRLOCK_USER/AIRLOCK_PASSWORD), never an agent key (an agent cannot pause or resume anything).
 */

export type { ServerLoginOptions };

export interface PauseCommandOptions extends ServerLoginOptions {
  fleet?: boolean;
  agent?: string;
  role?: string;
  tool?: string;
  reason?: string;
  /** A timed pause: a duration (30m) or an ISO time; the server checks both. */
  for?: string;
  until?: string;
  json?: boolean;
}

export interface PausesCommandOptions extends ServerLoginOptions {
  all?: boolean;
  json?: boolean;
}

function scopeOf(pause: PauseView): string {
  return pause.scope === 'fleet' ? 'the fleet' : `${pause.scope} ${pause.target ?? ''}`;
}

function describePause(pause: PauseView): string {
  const state = pause.active ? (pause.endsAt ? `active until ${pause.endsAt}` : 'active') : `resumed ${pause.resumedAt ?? ''} by ${pause.resumedBy ?? ''}`;
  return `${pause.id}  ${scopeOf(pause)}  ${pause.kind}  since ${pause.createdAt} by ${pause.createdBy}  ${state}\n    ${pause.reason}`;
}

/** The one scope named by --fleet, --agent, --role or --tool; a usage message when there is not exactly one. */
function scopeFrom(options: Pick<PauseCommandOptions, 'fleet' | 'agent' | 'role' | 'tool'>): { scope: PauseScope; target: string | undefined } | undefined {
  const scopes = [options.fleet ? 'fleet' : null, options.agent !== undefined ? 'agent' : null, options.role !== undefined ? 'role' : null, options.tool !== undefined ? 'tool' : null].filter(
    (scope): scope is PauseScope => scope !== null,
  );
  if (scopes.length !== 1) return undefined;
  const scope = scopes[0] as PauseScope;
  return { scope, target: scope === 'fleet' ? undefined : (options[scope] as string) };
}

export async function pauseCommand(options: PauseCommandOptions, io: Io, env: Env = process.env): Promise<number> {
  const named = scopeFrom(options);
  if (!named) {
    io.stderr.write('airlock: pause exactly one of --fleet, --agent <id>, --role <role>, --tool <tool>\n');
    return 2;
  }
  if (!options.reason?.trim()) {
    io.stderr.write('airlock: say why with --reason (it is recorded and shown to every refused caller)\n');
    return 2;
  }
  if (options.for !== undefined && options.until !== undefined) {
    io.stderr.write('airlock: give --for or --until, not both\n');
    return 2;
  }
  const { scope, target } = named;
  const timing = { ...(options.for !== undefined ? { for: options.for } : {}), ...(options.until !== undefined ? { until: options.until } : {}) };
  return withSession(options, io, env, async (session) => {
    const pause = await session.call('POST', '/v1/pauses', { body: { scope, ...(target !== undefined ? { target } : {}), reason: options.reason as string, ...timing } });
    if (options.json) io.stdout.write(`${JSON.stringify(pause)}\n`);
    else if (pause.endsAt) io.stdout.write(`Paused ${scopeOf(pause)} until ${pause.endsAt}: every call in it is refused (paused) until then, or \`airlock resume ${pause.id}\`.\n`);
    else io.stdout.write(`Paused ${scopeOf(pause)}: every call in it is refused (paused) until \`airlock resume ${pause.id}\`.\n`);
  });
}

export type ResumeCommandOptions = ServerLoginOptions & Pick<PauseCommandOptions, 'fleet' | 'agent' | 'role' | 'tool' | 'json'>;

/** `airlock resume <id>`, or `airlock resume --agent <id>` (etc.): the active pause of that scope. */
export async function resumeCommand(id: string | undefined, options: ResumeCommandOptions, io: Io, env: Env = process.env): Promise<number> {
  const named = scopeFrom(options);
  if ((id === undefined) === (named === undefined)) {
    io.stderr.write('airlock: name the pause to resume: its id, or one of --fleet, --agent <id>, --role <role>, --tool <tool>\n');
    return 2;
  }
  return withSession(options, io, env, async (session) => {
    let pauseId = id;
    if (named) {
      const { pauses } = await session.call('GET', '/v1/pauses', { query: { active: 'true' } });
      const found = pauses.find((p) => p.scope === named.scope && p.target === (named.target ?? null));
      if (!found) throw new CommandFailure(`${named.scope === 'fleet' ? 'the fleet' : `${named.scope} ${named.target ?? ''}`} is not paused`, 1);
      pauseId = found.id;
    }
    const pause = await session.call('POST', '/v1/pauses/{id}/resume', { params: { id: pauseId as string } });
    if (options.json) io.stdout.write(`${JSON.stringify(pause)}\n`);
    else io.stdout.write(`Resumed ${scopeOf(pause)}.\n`);
  });
}

export async function pausesCommand(options: PausesCommandOptions, io: Io, env: Env = process.env): Promise<number> {
  return withSession(options, io, env, async (session) => {
    const { pauses } = await session.call('GET', '/v1/pauses', { query: options.all ? {} : { active: 'true' } });
    if (options.json) {
      io.stdout.write(`${JSON.stringify(pauses)}\n`);
      return;
    }
    if (pauses.length === 0) {
      io.stdout.write(options.all ? 'No pauses.\n' : 'Nothing is paused.\n');
      return;
    }
    io.stdout.write(`${pauses.map(describePause).join('\n')}\n`);
  });
}
