// A loopback front for a registry without the OCI 1.1 referrers API (the stack's distribution 2.8 stores
// manifests with `subject` but has no referrers endpoint). The front answers only
// `GET /v2/<repo>/referrers/<digest>`, from the manifests pushed through it; everything else (blobs, manifests,
// tags) is passed to the real registry.
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface ReferrerFront {
  /** host:port of the front, to use in image references instead of the real registry's. */
  registry: string;
  /** `<repo>@<subject digest>` → the referrers index entries recorded for it. */
  referrers: Map<string, Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** Starts a referrers front on 127.0.0.1 in front of `upstream` (host:port of a plain-http registry). */
export async function referrersFront(upstream: string): Promise<ReferrerFront> {
  const referrers = new Map<string, Array<Record<string, unknown>>>();
  const [host, port] = upstream.split(':');
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://x');
      const ref = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
      if (req.method === 'GET' && ref) {
        const manifests = referrers.get(`${ref[1]}@${ref[2]}`) ?? [];
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
        res.end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
        return;
      }
      const put = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
      const up = http.request(
        { host, port: Number(port), method: req.method, path: req.url, headers: req.headers },
        (r) => {
          // Only a manifest the registry accepted becomes a referrer, as a referrers-capable registry would do.
          if (put && req.method === 'PUT' && r.statusCode === 201) {
            const m = JSON.parse(body.toString()) as {
              subject?: { digest: string };
              artifactType?: string;
              annotations?: Record<string, string>;
              mediaType?: string;
            };
            if (m.subject) {
              const key = `${put[1]}@${m.subject.digest}`;
              const list = referrers.get(key) ?? [];
              list.push({
                mediaType: m.mediaType,
                digest: `sha256:${createHash('sha256').update(body).digest('hex')}`,
                size: body.length,
                artifactType: m.artifactType,
                annotations: m.annotations,
              });
              referrers.set(key, list);
            }
          }
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    registry: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    referrers,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
