import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import { formatLoadError, PolicyLoadError } from '@airlock/core';
import { auditArchiveCommand } from './commands/audit-archive.js';
import { auditTailCommand, type AuditTailOptions } from './commands/audit-tail.js';
import { auditVerifyCommand } from './commands/audit-verify.js';
import { backupCommand } from './commands/backup.js';
import { evalCommand } from './commands/eval.js';
import { initCommand, type InitOptions } from './commands/init.js';
import { policyCheckCommand, type PolicyCheckOptions } from './commands/policy-check.js';
import { mcpProxyCommand, type McpProxyCommandOptions } from './commands/mcp-proxy.js';
import { pauseCommand, pausesCommand, resumeCommand, type PauseCommandOptions, type PausesCommandOptions, type ResumeCommandOptions } from './commands/pause.js';
import { policyTestCommand, type PolicyTestOptions } from './commands/policy-test.js';
import { replayCommand, type ReplayCommandOptions } from './commands/replay.js';
import { startCommand, type StartCommandOptions } from './commands/start.js';
import { loginCommand, logoutCommand, type LoginOptions } from './commands/login.js';
import {
  approvalsApproveCommand,
  approvalsDenyCommand,
  approvalsListCommand,
  approvalsShowCommand,
  approvalsWaitCommand,
  APPROVAL_STATUSES,
  WAIT_EXIT,
  type ApprovalActOptions,
  type ApprovalsListOptions,
  type ApprovalWaitOptions,
} from './commands/approvals.js';
import { agentsCreateCommand, agentsListCommand, keysListCommand, keysRevokeCommand, keysRotateCommand, type AgentCreateOptions, type KeysRotateOptions } from './commands/agents.js';
import { usersCreateCommand, usersListCommand, USER_ROLE_NAMES, type UserCreateOptions } from './commands/users.js';
import type { ServerLoginOptions } from './commands/server-client.js';
import { POLICIES_DIR, SCAFFOLD_DIR, TESTS_DIR } from './scaffold/files.js';

/**
 * The `airlock` command line. Each command lives in `commands/<name>.ts` and returns an exit code;
 * this file only wires arguments to them.
 */

export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('airlock')
    .description('Runtime governance for AI agents')
    .exitOverride()
    // Options after a subcommand's operands belong to it (mcp-proxy passes them to the MCP server it starts).
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  program
    .command('eval')
    .description('Decide JSONL requests (one per line) against a policy file or directory; writes one decision per line')
    .requiredOption('--policy <path>', 'policy file or bundle directory')
    .option('--input <file>', 'JSONL input (default: stdin)')
    .action(async (options: { policy: string; input?: string }) => {
      setExitCode(await evalCommand(options, io));
    });

  program
    .command('init')
    .description(`Create a policy folder for your own agent: a starter policy, its test suite, JSON Schemas for editors, a README; exit 1 when a file exists`)
    .argument('[dir]', 'the folder to create', SCAFFOLD_DIR)
    .option('--force', 'overwrite files that exist')
    .option('--schemas', 'only rewrite the JSON Schemas in <dir>/schemas (after upgrading airlock)')
    .action(async (dir: string, options: InitOptions) => {
      setExitCode(await initCommand(dir, options, io));
    });

  // Without a directory, policy test and check use the folder `airlock init` creates.
  const scaffolded = (path: string) => `${SCAFFOLD_DIR}/${path}`;
  const noScaffold = (dir: string, fallback: string): boolean => {
    if (dir !== fallback || existsSync(dir)) return false;
    io.stderr.write(`airlock: no ${dir} here: name a directory, or create one with airlock init\n`);
    setExitCode(2);
    return true;
  };
  const policy = program.command('policy').description('Work with policy bundles');
  policy
    .command('test')
    .description('Run the YAML policy test suites in a directory (or one suite file); exit 1 when a case fails, 2 when a suite or bundle does not load')
    .argument('[dir]', 'test suite directory or file', scaffolded(TESTS_DIR))
    .option('--verbose', 'list passing cases too')
    .action(async (dir: string, options: PolicyTestOptions) => {
      if (noScaffold(dir, scaffolded(TESTS_DIR))) return;
      setExitCode(await policyTestCommand(dir, options, io));
    });

  policy
    .command('check')
    .description(
      'Static analysis of a policy bundle: load errors, threshold gaps, overlapping effects, shadowed and unreachable rules; exit 2 on errors, 1 when a finding reaches --fail-on',
    )
    .argument('[dir]', 'policy bundle directory or file', scaffolded(POLICIES_DIR))
    .option('--json', 'one JSON document: errors, findings, summary')
    .addOption(new Option('--fail-on <severity>', 'also exit 1 for findings this severe or worse').choices(['warning', 'info', 'error']).default('error'))
    .option('--coverage', 'also show how every tool\'s calls are decided, range by range')
    .action(async (dir: string, options: PolicyCheckOptions) => {
      if (noScaffold(dir, scaffolded(POLICIES_DIR))) return;
      setExitCode(await policyCheckCommand(dir, options, io));
    });

  program
    .command('start')
    .description('Start the control plane (API, approvals, audit) on one SQLite file; env AIRLOCK_PORT, AIRLOCK_HOST, AIRLOCK_DATA_DIR, AIRLOCK_ADMIN_PASSWORD')
    .option('--port <port>', 'TCP port (default 7300)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--data-dir <dir>', 'directory of airlock.db and demo-keys.json (default ./data)')
    .option('--notifications <file>', 'approval notification channels, YAML or JSON (default: AIRLOCK_NOTIFICATIONS)')
    .action(async (options: StartCommandOptions) => {
      setExitCode(await startCommand(options, io));
    });

  program
    .command('replay')
    .description('Backtest: decide every recorded call of the audit trail again with a candidate bundle (in time order, with its own limit state) and report what would change')
    .requiredOption('--candidate <dir>', 'candidate policy file or bundle directory')
    .option('--db <file>', 'the server database', 'data/airlock.db')
    .option('--since <duration>', 'only calls recorded in this window, e.g. 24h, 7d')
    .option('--examples <n>', 'examples shown per group of flips', '3')
    .option('--json', 'print the report as JSON')
    .action(async (options: ReplayCommandOptions) => {
      setExitCode(await replayCommand(options, io));
    });

  const audit = program.command('audit').description('Work with the audit trail');
  audit
    .command('verify')
    .description(
      'Verify the hash chain of a server database and print its head hash; names the first edited, missing or reordered record (exit 1). Several --db, oldest first (archives, then the database): verified as one history',
    )
    .option('--db <file>', 'the server database, e.g. data/airlock.db; repeat it for archives, oldest first', (file: string, files: string[] = []) => [...files, file])
    .option('--database-url <url>', 'a PostgreSQL trail (the servers\' AIRLOCK_DATABASE_URL), verified last, after the --db archives')
    .option('--schema <name>', 'the PostgreSQL schema of Airlock\'s tables (AIRLOCK_DATABASE_SCHEMA)')
    .option('--expect-head <hash>', 'an anchored head hash (printed by an earlier verify): fail unless it is still in the chain (a truncated or rewritten tail)')
    .action(async (options: { db?: string[]; databaseUrl?: string; schema?: string; expectHead?: string }) => {
      setExitCode(await auditVerifyCommand(options, io));
    });

  audit
    .command('archive')
    .description(
      'Move the records made before a date out of a server database into a new archive file, while the server runs; the archive verifies on its own and the trail goes on from its last record (the last 7 days, or the longest limit window, always stay)',
    )
    .option('--db <file>', 'the server database', 'data/airlock.db')
    .option('--database-url <url>', 'archive a PostgreSQL trail instead (the servers\' AIRLOCK_DATABASE_URL)')
    .option('--schema <name>', 'the PostgreSQL schema of Airlock\'s tables (AIRLOCK_DATABASE_SCHEMA)')
    .requiredOption('--before <when>', 'a date (2026-06-30) or a duration ago (180d)')
    .requiredOption('--to <file>', 'the new archive file, e.g. archive/airlock-audit-to-2026-06-30.db')
    .action(async (options: { db: string; databaseUrl?: string; schema?: string; before: string; to: string }) => {
      setExitCode(await auditArchiveCommand(options, io));
    });

  program
    .command('backup')
    .description(
      'Copy a server database while the server runs (one consistent instant, never replacing a file), verify the copy\'s audit chain and print its head hash (exit 1 if it does not verify)',
    )
    .option('--db <file>', 'the server database', 'data/airlock.db')
    .requiredOption('--to <file>', 'the new file to write, e.g. backups/airlock-2026-12-07.db')
    .action(async (options: { db: string; to: string }) => {
      setExitCode(await backupCommand(options, io));
    });

  // The kill switch (docs/kill-switch.md): signs in as a person, like the dashboard.
  const withLogin = (command: Command): Command =>
    command
      .option('--url <url>', 'the Airlock server (env AIRLOCK_URL; default http://127.0.0.1:7300)')
      .option('--user <name>', 'sign in as (env AIRLOCK_USER)')
      .option('--password <password>', 'password (env AIRLOCK_PASSWORD; prefer the variable: flags show in ps)')
      .option('--json', 'print JSON');
  withLogin(
    audit
      .command('tail')
      .description(
        'Print the audit trail of a server (GET /v1/audit/stream) oldest first, verifying the hash chain record by record (exit 1 naming the first record that does not verify); with --follow, wait for new records and resume after the last one printed when the connection drops',
      )
      .option('--after <seq>', 'start after this seq (default 0: from the first record, so the whole chain is verified from the genesis hash)')
      .option('--follow', 'keep printing new records as they are committed; reconnect on a drop'),
  ).action(async (options: AuditTailOptions) => {
    // Ctrl-C ends a followed tail cleanly (exit 0, the session signed out).
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      setExitCode(await auditTailCommand(options, io, process.env, stop.signal));
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
  withLogin(
    program
      .command('pause')
      .description('Kill switch: refuse every call of the fleet, an agent, a role or a tool (block, code paused) until resumed; admin only')
      .option('--fleet', 'pause every agent')
      .option('--agent <id>', 'pause one agent')
      .option('--role <role>', 'pause every agent of a role')
      .option('--tool <tool>', 'pause one tool for every agent')
      .option('--reason <text>', 'why (recorded, and shown to every refused caller)')
      .option('--for <duration>', 'a timed pause: it ends by itself after this long (30m, 2h, 1d)')
      .option('--until <time>', 'a timed pause: it ends by itself at this ISO time (2026-12-07T08:00:00Z)'),
  ).action(async (options: PauseCommandOptions) => {
    setExitCode(await pauseCommand(options, io));
  });
  withLogin(
    program
      .command('resume')
      .description('End a pause (admin only): by its id, or by the scope it pauses')
      .argument('[id]', 'the pause id, from airlock pauses')
      .option('--fleet', 'the pause of the whole fleet')
      .option('--agent <id>', "the agent's pause")
      .option('--role <role>', "the role's pause")
      .option('--tool <tool>', "the tool's pause"),
  ).action(async (id: string | undefined, options: ResumeCommandOptions) => {
    setExitCode(await resumeCommand(id, options, io));
  });
  withLogin(program.command('pauses').description('List the pauses in force (manual and by quarantine)').option('--all', 'also those already resumed')).action(
    async (options: PausesCommandOptions) => {
      setExitCode(await pausesCommand(options, io));
    },
  );

  const collect = (value: string, previous: string[]): string[] => [...previous, value];

  // People commands: act as a person with a personal API token (AIRLOCK_TOKEN, or the one
  // `airlock login` stored), or sign in with --user/--password (AIRLOCK_USER/AIRLOCK_PASSWORD).
  const asPerson = (command: Command): Command =>
    command
      .option('--url <url>', 'the Airlock server (env AIRLOCK_URL; default: where airlock login signed in, else http://127.0.0.1:7300)')
      .option('--user <name>', 'sign in with a password instead of a token (env AIRLOCK_USER)')
      .option('--password <password>', 'password for --user (env AIRLOCK_PASSWORD; prefer the variable: flags show in ps)')
      .option('--json', 'print JSON');
  type JsonOptions = ServerLoginOptions & { json?: boolean };

  program
    .command('login')
    .description('Sign in once: exchange a username and password for a personal API token, stored in ~/.config/airlock/credentials.json (0600) for the other commands')
    .option('--url <url>', 'the Airlock server (env AIRLOCK_URL; default http://127.0.0.1:7300)')
    .option('--user <name>', 'username (env AIRLOCK_USER; asked on a terminal)')
    .option('--password-stdin', 'read the password from standard input (scripts); else it is asked on the terminal, hidden')
    .option('--name <name>', 'what to call the token on the server (default: airlock CLI on <host>)')
    .option('--expires-in-days <days>', 'the token expires after this many days (default: never)')
    .addOption(new Option('--role <role>', 'a narrower role for the token than yours').choices([...USER_ROLE_NAMES]))
    .action(async (options: LoginOptions) => {
      setExitCode(await loginCommand(options, io));
    });
  program
    .command('logout')
    .description('Revoke the stored token on the server and delete the credentials file')
    .action(async () => {
      setExitCode(await logoutCommand(io));
    });

  const approvals = program.command('approvals').description('Approve, deny and wait for approvals as a person (airlock login, AIRLOCK_TOKEN, or --user/--password)');
  asPerson(
    approvals
      .command('list')
      .description('Pending approvals as a table: id, agent, tool, arguments, age, tier and approvals so far')
      .addOption(new Option('--status <status>', 'only approvals in this status (default pending)').choices([...APPROVAL_STATUSES]))
      .option('--all', 'approvals in every status')
      .option('--agent <id>', "only this agent's")
      .option('--limit <n>', 'at most this many, newest first', '100'),
  ).action(async (options: ApprovalsListOptions) => {
    setExitCode(await approvalsListCommand(options, io));
  });
  asPerson(approvals.command('show').description('One approval in full').argument('<id>', 'the approval id')).action(async (id: string, options: JsonOptions) => {
    setExitCode(await approvalsShowCommand(id, options, io));
  });
  asPerson(
    approvals
      .command('approve')
      .description('Approve (one of the approvals the current tier needs); with --edit, approve the call with changed arguments')
      .argument('<id>', 'the approval id')
      .option('--reason <text>', 'why (required; recorded)')
      .option('--edit <key=value>', 'change an argument before approving (repeatable); the value is JSON when it parses (50, true), else a string', collect, []),
  ).action(async (id: string, options: ApprovalActOptions) => {
    setExitCode(await approvalsApproveCommand(id, options, io));
  });
  asPerson(approvals.command('deny').description('Deny: the call does not run').argument('<id>', 'the approval id').option('--reason <text>', 'why (required; the agent gets it)')).action(
    async (id: string, options: ApprovalActOptions) => {
      setExitCode(await approvalsDenyCommand(id, options, io));
    },
  );
  asPerson(
    approvals
      .command('wait')
      .description(`Block until the approval is decided; exit ${WAIT_EXIT.approved} approved (or redeemed), ${WAIT_EXIT.denied} denied, ${WAIT_EXIT.expired} expired, ${WAIT_EXIT.timeout} still pending after --timeout, ${WAIT_EXIT.error} error`)
      .argument('<id>', 'the approval id')
      .option('--timeout <duration>', 'give up after this long: 90s, 15m, 2h (default: wait until it is decided or expires)'),
  )
    // A usage mistake must not exit 1 or 2, which mean denied and expired here.
    .exitOverride((error) => {
      throw error.exitCode === 0 ? error : new CommanderError(WAIT_EXIT.error, error.code, error.message);
    })
    .action(async (id: string, options: ApprovalWaitOptions) => {
      setExitCode(await approvalsWaitCommand(id, options, io));
    });

  const agents = program.command('agents').description('Agents and their API keys (admin; list: any person)');
  asPerson(agents.command('list').description('Registered agents')).action(async (options: JsonOptions) => {
    setExitCode(await agentsListCommand(options, io));
  });
  asPerson(
    agents
      .command('create')
      .description('Register an agent and issue its first API key (printed once)')
      .argument('<id>', 'the agent id')
      .option('--role <role>', 'its role: which policies apply to it (required)')
      .option('--environment <env>', 'its environment (default production)')
      .option('--no-key', 'do not issue a key'),
  ).action(async (id: string, options: AgentCreateOptions) => {
    setExitCode(await agentsCreateCommand(id, options, io));
  });
  const keys = agents.command('keys').description("An agent's API keys");
  asPerson(keys.command('list').description("An agent's keys (ids only: secrets are never stored)").argument('<agent>', 'the agent id')).action(
    async (agent: string, options: JsonOptions) => {
      setExitCode(await keysListCommand(agent, options, io));
    },
  );
  asPerson(
    keys
      .command('rotate')
      .description("Issue a new key (printed once) and revoke the agent's other keys")
      .argument('<agent>', 'the agent id')
      .option('--keep-old', 'keep the other keys active (revoke them later with keys revoke)'),
  ).action(async (agent: string, options: KeysRotateOptions) => {
    setExitCode(await keysRotateCommand(agent, options, io));
  });
  asPerson(keys.command('revoke').description('Revoke a key: it stops working at once').argument('<key>', 'the key id')).action(async (key: string, options: JsonOptions) => {
    setExitCode(await keysRevokeCommand(key, options, io));
  });

  const users = program.command('users').description('People and their roles (admin)');
  asPerson(users.command('list').description('People, roles and approver groups')).action(async (options: JsonOptions) => {
    setExitCode(await usersListCommand(options, io));
  });
  asPerson(
    users
      .command('create')
      .description('Create a person; a generated password is printed once')
      .argument('<username>', 'the username')
      .addOption(new Option('--role <role>', 'their role (required)').choices([...USER_ROLE_NAMES]))
      .option('--group <group>', 'an approver group (repeatable)', collect, [])
      .option('--bot', 'a bot (service account): its approval decisions are counted apart from people\'s time to decision')
      .option('--password-stdin', 'read their password from standard input instead of generating one'),
  ).action(async (username: string, options: UserCreateOptions) => {
    setExitCode(await usersCreateCommand(username, options, io));
  });
  program
    .command('mcp-proxy')
    .description(
      'Govern an MCP server: serve MCP on stdio (or Streamable HTTP with --listen) in front of it, every tools/call decided by Airlock. ' +
        'Remote: --url and --api-key (or AIRLOCK_URL, AIRLOCK_API_KEY); local: --policy, --agent, --role.',
    )
    .argument('[command...]', 'the MCP server to start and govern, e.g. -- npx -y @modelcontextprotocol/server-everything')
    .option('--url <url>', 'Airlock server that decides (env AIRLOCK_URL)')
    .option('--api-key <key>', "the agent's Airlock API key, stdio only (env AIRLOCK_API_KEY)")
    .option('--policy <path>', 'local mode: policy file or bundle directory')
    .option('--agent <id>', 'local mode: the agent id decisions and audit records name')
    .option('--role <role>', 'local mode: the agent role whose policies apply')
    .option('--environment <env>', 'local mode: the environment (default production)')
    .option('--audit <file>', 'local mode: JSONL audit file (default .airlock/audit.jsonl)')
    .option('--listen <host:port>', 'serve Streamable HTTP at http://host:port/mcp instead of stdio; each client sends its agent key')
    .option('--upstream <url>', 'govern a Streamable HTTP MCP server instead of starting a command')
    .option('--upstream-header <header>', "'Name: value' sent to the --upstream server (repeatable)", collect, [])
    .option('--map <mcpTool=policyTool>', 'decide an MCP tool as a differently named policy tool (repeatable)', collect, [])
    .option('--map-file <file>', 'JSON or YAML object of MCP tool name → policy tool name')
    .option('--no-hide-blocked-tools', 'list every tool in tools/list, also those the policy always blocks')
    .option('--approval-timeout <seconds>', 'how long a call waits for approval before it is refused', '300')
    .option('--progress-interval <seconds>', 'progress notifications to the client while a call waits for approval, this often', '5')
    .passThroughOptions()
    .action(async (command: string[], options: McpProxyCommandOptions) => {
      setExitCode(await mcpProxyCommand(command, options, io));
    });

  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (PolicyLoadError.isInstance(error)) {
      io.stderr.write(`airlock: invalid policy\n${error.errors.map((e) => `  ${formatLoadError(e)}`).join('\n')}\n`);
      return 2;
    }
    io.stderr.write(`airlock: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
