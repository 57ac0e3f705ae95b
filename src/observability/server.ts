// The operations endpoints on `--metrics-addr`: `/healthz` (the process is alive), `/readyz` (informers synced,
// config valid, and either leading or standing by) and `/metrics` (Prometheus text format).
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface OpsServerOptions {
  /** `:9090`, `127.0.0.1:9090`, `[::1]:9090`, or `0` for a free port */
  addr: string;
  registry: Registry;
  /** undefined = ready; otherwise why not */
  notReady: () => string | undefined;
  /** a line added to `/readyz`'s `ok` (e.g. the buckets this replica holds) */
  readyDetail?: () => string;
}

/** Splits `--metrics-addr` into host and port (`:9090` = all interfaces). */
export function parseListenAddress(addr: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr) ?? /^()()(\d+)$/.exec(addr);
  if (!m) throw new Error(`invalid listen address "${addr}" (expected HOST:PORT or :PORT)`);
  const host = m[1] || m[2] || undefined;
  return { ...(host ? { host } : {}), port: Number(m[3]) };
}

/** Starts the server; resolves with it and the port it listens on. */
export async function startOpsServer(o: OpsServerOptions): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const why = o.notReady();
      const detail = why === undefined ? o.readyDetail?.() : undefined;
      if (why === undefined)
        res.writeHead(200, { 'content-type': 'text/plain' }).end(detail ? `ok\n${detail}\n` : 'ok\n');
      else res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${why}\n`);
    } else if (path === '/metrics') {
      o.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': o.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  const { host, port } = parseListenAddress(o.addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : port };
}
