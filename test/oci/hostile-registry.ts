// A malicious registry on a loopback port for tests: a node:http server whose answers each test scripts, and
// that records every request (method, path with query, Authorization) so a test can prove where credentials went.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the hostile registry received. */
export interface SeenRequest {
  method: string;
  /** path and query exactly as sent on the request line */
  url: string;
  authorization: string | undefined;
}

/** Username and password every test configures for the hostile registry. */
export const HOSTILE_USER = 'victim';
export const HOSTILE_PASSWORD = 'hostile-registry-secret';

export interface HostileRegistry {
  /** `127.0.0.1:<port>` */
  registry: string;
  port: number;
  seen: SeenRequest[];
  /** the Docker config with Basic credentials for this registry */
  dockerConfig: { auths: Record<string, { username: string; password: string }> };
  /** requests outside `/v2/<repository>/` that carried an Authorization header */
  leaks(repository: string): SeenRequest[];
  close(): Promise<void>;
}

/**
 * Starts the registry. Every request without Basic credentials first gets a 401 Basic challenge, so the client
 * attaches its credentials from then on; authenticated requests go to `handle`.
 */
export async function hostileRegistry(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, port: number) => void,
  opts: { challenge?: boolean } = {},
): Promise<HostileRegistry> {
  const seen: SeenRequest[] = [];
  let port = 0;
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    // drain the request body before answering
    req.on('data', () => undefined);
    req.on('end', () => {
      if ((opts.challenge ?? true) && !req.headers.authorization) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="hostile"', 'content-length': '0' });
        res.end();
        return;
      }
      handle(req, res, port);
    });
  });
  // the client's https probe arrives as garbage on this plain-http port
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const registry = `127.0.0.1:${port}`;
  return {
    registry,
    port,
    seen,
    dockerConfig: { auths: { [registry]: { username: HOSTILE_USER, password: HOSTILE_PASSWORD } } },
    leaks: (repository) => seen.filter((r) => r.authorization !== undefined && !r.url.startsWith(`/v2/${repository}/`)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
