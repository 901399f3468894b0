export { startStdioProxy } from './stdio-proxy.js';
export type { AirlockConnection, ProxyExit, RunningStdioProxy, StdioProxyOptions } from './stdio-proxy.js';
export { startHttpProxy } from './http-proxy.js';
export type { HttpProxyOptions, RunningHttpProxy } from './http-proxy.js';
export type { GatewayOptions } from './session.js';
export type { UpstreamCommand, UpstreamOptions, UpstreamUrl } from './upstream.js';
export { loadToolMapFile, parseToolMapEntries, policyToolOf } from './tool-map.js';
export type { ToolMap } from './tool-map.js';
