import type { Readable, Writable } from 'node:stream';
import { AirlockUnavailableError, createAirlock, type Airlock, type LocalOptions, type RemoteOptions } from '@airlock/sdk';
import { ErrorCode, isInitializeRequest, isJSONRPCRequest, type InitializeRequest, type JSONRPCMessage, type JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import { askClientUser } from './elicit-approval.js';
import { ProxySession, sessionSettings, type GatewayOptions } from './session.js';
import { StdioGate } from './stdio-gate.js';

/** Remote: an Airlock server decides, with this agent key. Local: the embedded engine over policy files. */
export type AirlockConnection = Pick<RemoteOptions, 'url' | 'apiKey' | 'timeoutMs'> | Omit<LocalOptions, 'approver'>;

export interface StdioProxyOptions extends GatewayOptions {
  airlock: AirlockConnection;
  /** Where the MCP client writes. Default process.stdin. */
  stdin?: Readable;
  /** Where the MCP client reads. Default process.stdout: nothing else may write there. */
  stdout?: Writable;
}

export interface ProxyExit {
  /** `client_closed`: the client closed stdin. `upstream_exited`: the MCP server went away. `upstream_failed`: it could not be started. */
  reason: 'client_closed' | 'upstream_exited' | 'upstream_failed';
  message: string;
}

export interface RunningStdioProxy {
  /** Settles once the proxy has stopped, with why. */
  exited: Promise<ProxyExit>;
  close(): Promise<void>;
}

/**
 * An MCP server on stdin/stdout that starts the real one (`upstream`) when the client initializes
 * and governs its tools: every `tools/call` is decided by Airlock first. The real server's exit is
 * reported to the client (requests in flight get an error) and ends the proxy.
 */
export async function startStdioProxy(options: StdioProxyOptions): Promise<RunningStdioProxy> {
  const settings = sessionSettings(options);
  const stdin = options.stdin ?? process.stdin;
  const gate = new StdioGate(stdin, options.stdout ?? process.stdout);
  let session: ProxySession | undefined;
  const airlock = connect(options.airlock, () => session, settings.approvalTimeoutMs);
  if ('url' in options.airlock) await checkKey(airlock, settings.log);

  let finish: (exit: ProxyExit) => void = () => undefined;
  let stopped = false;
  const exited = new Promise<ProxyExit>((resolve) => {
    finish = (exit) => {
      if (stopped) return;
      stopped = true;
      void (async () => {
        await session?.close();
        await gate.close().catch(() => undefined);
        await airlock.close();
        resolve(exit);
      })();
    };
  });

  const queued: JSONRPCMessage[] = [];
  let opening = false;
  const begin = async (initialize: InitializeRequest & JSONRPCRequest): Promise<void> => {
    let opened: ProxySession;
    try {
      opened = await ProxySession.open(initialize.params, airlock, settings);
    } catch (error) {
      const message = `Airlock could not start the MCP server: ${(error as Error).message}`;
      settings.log(message);
      await gate.send({ jsonrpc: '2.0', id: initialize.id, error: { code: ErrorCode.InternalError, message } });
      finish({ reason: 'upstream_failed', message });
      return;
    }
    session = opened;
    gate.onmessage = undefined;
    await opened.server.connect(gate);
    for (const message of [initialize, ...queued.splice(0)]) gate.deliver(message);
    void opened.upstreamLost.then(async () => {
      const message = 'the MCP server exited';
      settings.log(message);
      await opened.drain();
      finish({ reason: 'upstream_exited', message });
    });
  };
  gate.onmessage = (message) => {
    if (opening) queued.push(message);
    else if (isInitializeRequest(message) && isJSONRPCRequest(message)) {
      opening = true;
      void begin(message);
    } else if (isJSONRPCRequest(message)) {
      void gate.send({ jsonrpc: '2.0', id: message.id, error: { code: ErrorCode.InvalidRequest, message: 'Server not initialized: send initialize first' } });
    }
  };
  stdin.once('end', () => finish({ reason: 'client_closed', message: 'the client closed stdin' }));
  // The SDK's transport closes itself on a line over its buffer limit; the proxy stops with it.
  gate.onclose = () => finish({ reason: 'client_closed', message: 'the stdio transport closed' });
  await gate.open();
  return {
    exited,
    async close() {
      finish({ reason: 'client_closed', message: 'closed' });
      await exited;
    },
  };
}

function connect(connection: AirlockConnection, session: () => ProxySession | undefined, approvalTimeoutMs: number): Airlock {
  if ('url' in connection) return createAirlock({ url: connection.url, apiKey: connection.apiKey, timeoutMs: connection.timeoutMs });
  return createAirlock({ ...connection, approver: askClientUser(() => session()?.server, approvalTimeoutMs) });
}

/** A key the server refuses stops the proxy at once; an unreachable server only warns (every call is refused until it answers). */
async function checkKey(airlock: Airlock, log: (message: string) => void): Promise<void> {
  try {
    await airlock.tools();
  } catch (error) {
    if (error instanceof AirlockUnavailableError && error.refused) throw new Error(`Airlock refused the agent key: ${(error as Error).message}`);
    log(`warning: ${(error as Error).message}; every tool call is refused until Airlock answers`);
  }
}
