// A small TLS front standing in for an Azure Container Registry's login server, because ACR cannot run here: ACR serves
// its token service (`/oauth2/exchange`, `/oauth2/token`) on the registry's own host, which docker-registry cannot, so
// this front routes `/oauth2/*` to the ACR token stand-in (test/oci/cloud-standins/azure.ts) and forwards everything
// else (`/v2/...`) untouched to a real docker-registry on loopback, which checks the Bearer JWTs itself (`auth: token`).
// The Host header is kept and X-Forwarded-Proto is https, so the registry's Location headers and its challenge name the
// front (`https://chainsmith.azurecr.io:<port>/...`).
import http from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { writeReply, type AcrTokenService } from '../../test/oci/cloud-standins/azure.js';

export interface AcrFront {
  port: number;
  close(): Promise<void>;
}

/** Starts the front on a free loopback port: `/oauth2/*` → `tokens`, the rest → `http://127.0.0.1:<upstreamPort>`. */
export async function startAcrFront(opts: {
  tls: { cert: string; key: string };
  tokens: AcrTokenService;
  upstreamPort: number;
}): Promise<AcrFront> {
  const agent = new http.Agent({ keepAlive: true });
  const server = createServer({ cert: opts.tls.cert, key: opts.tls.key }, (req, res) => {
    if ((req.url ?? '').startsWith('/oauth2/')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        writeReply(
          res,
          opts.tokens.handle({
            method: req.method ?? '',
            url: req.url ?? '',
            headers: req.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        ),
      );
      return;
    }
    const up = http.request(
      {
        host: '127.0.0.1',
        port: opts.upstreamPort,
        method: req.method,
        path: req.url,
        agent,
        headers: { ...req.headers, 'x-forwarded-proto': 'https' },
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`acr front: upstream registry: ${err.message}`);
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
