// The kubeconfig's `proxy-url` (http:// or https://): connections to the API server are tunnelled through the
// proxy with CONNECT, then TLS runs end to end with the API server, as client-go does. A keep-alive agent,
// so the tunnel is reused like a direct connection.
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { escapeTerminal } from '../text/terminal.js';

/** How long the proxy may take to answer a CONNECT. */
export const PROXY_CONNECT_TIMEOUT_MS = 30_000;

type Callback = (err: Error | null, socket?: Duplex) => void;

/** Agent options plus the proxy to tunnel through. */
export interface TunnelOptions extends https.AgentOptions {
  proxy: URL;
  /** true when the API server speaks TLS (an https:// server) */
  secure: boolean;
}

/** A keep-alive agent whose sockets are CONNECT tunnels through the proxy (https or http API server). */
export function tunnelAgent(opts: TunnelOptions): http.Agent {
  const { proxy, secure, ...agentOptions } = opts;
  return secure ? new HttpsTunnelAgent(proxy, agentOptions) : new HttpTunnelAgent(proxy, agentOptions);
}

type ConnectOptions = tls.ConnectionOptions & { host?: string; port?: number };

class HttpsTunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    opts: https.AgentOptions,
  ) {
    super(opts);
  }

  // Node's Agent takes the socket from the callback when createConnection returns nothing
  override createConnection(options: ConnectOptions, cb: Callback): undefined {
    tunnel(this.proxy, options, (err, socket) => {
      if (err) cb(err);
      else cb(null, tls.connect({ ...options, socket: socket! }));
    });
    return undefined;
  }
}

class HttpTunnelAgent extends http.Agent {
  constructor(
    private readonly proxy: URL,
    opts: http.AgentOptions,
  ) {
    super(opts);
  }

  override createConnection(options: ConnectOptions, cb: Callback): undefined {
    tunnel(this.proxy, options, cb);
    return undefined;
  }
}

/** Opens a CONNECT tunnel to options.host:options.port through the proxy. */
function tunnel(proxy: URL, options: ConnectOptions, cb: (err: Error | null, socket?: Duplex) => void): void {
  const target = `${options.host?.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  const headers: Record<string, string> = { host: target };
  if (proxy.username !== '' || proxy.password !== '') {
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    headers['proxy-authorization'] = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }
  const lib = proxy.protocol === 'https:' ? https : http;
  const req = lib.request({
    host: proxy.hostname.replace(/^\[|\]$/g, ''),
    port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
    method: 'CONNECT',
    path: target,
    headers,
    agent: false,
    timeout: PROXY_CONNECT_TIMEOUT_MS,
  });
  let settled = false;
  const fail = (err: Error): void => {
    if (settled) return;
    settled = true;
    cb(err);
  };
  req.on('timeout', () => req.destroy(new Error(`no answer to CONNECT within ${PROXY_CONNECT_TIMEOUT_MS / 1000} s`)));
  // only the error code is quoted, never the proxy URL: it may carry credentials
  req.on('error', (err) => {
    const why = (err as NodeJS.ErrnoException).code ?? escapeTerminal(err.message);
    fail(new Error(`cannot reach the kubeconfig's proxy-url: ${why}`));
  });
  req.on('connect', (res, socket) => {
    if (res.statusCode !== 200) {
      socket.destroy();
      fail(new Error(`the kubeconfig's proxy-url refused the tunnel: HTTP ${res.statusCode}`));
      return;
    }
    settled = true;
    cb(null, socket);
  });
  req.end();
}
