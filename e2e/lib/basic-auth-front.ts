// A registry that demands credentials: a loopback front for the stack's registry (which has no auth) that
// forwards only requests carrying one Basic `user:password` and answers 401 to everything else. A push that
// succeeds through it proves which registry credentials the controller really used.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { stackEnv } from './env.js';

export interface BasicAuthFront {
  /** `127.0.0.1:<port>`: use it as the registry host of image references. */
  host: string;
  close(): Promise<void>;
}

/** Starts a front on a free loopback port that lets only `user:password` through to the stack's registry. */
export async function basicAuthFront(user: string, password: string): Promise<BasicAuthFront> {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const [upHost, upPort] = stackEnv().registry.split(':');
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' });
      res.end();
      req.resume();
      return;
    }
    const up = http.request(
      { host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // a client's keep-alive sockets would otherwise hold close() open
      }),
  };
}

/** A Docker `config.json` holding `user:password` for `registry`, as `.dockerconfigjson` or `$DOCKER_CONFIG/config.json`. */
export function dockerConfigJson(registry: string, user: string, password: string): string {
  return JSON.stringify({ auths: { [registry]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } });
}
