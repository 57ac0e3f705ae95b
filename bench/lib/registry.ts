// Plain-http pushes to the stack's registry for the harness (test images) and the ceiling arm
// (blind cosign tags): node:http with one keep-alive agent, which costs the client about half the
// CPU per request of fetch, so the ceiling measures the registry rather than its own client.
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';

export const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Closes the kept-alive connections (before a process exits). */
export function closeRegistryConnections(): void {
  agent.destroy();
}

function call(
  method: string,
  url: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: { 'content-length': String(body?.length ?? 0), ...headers },
        signal: AbortSignal.timeout(30_000),
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Uploads a blob to `http://registry/v2/repo` (POST, then PUT with the bytes); returns its digest. */
export async function uploadBlob(base: string, blob: Buffer): Promise<string> {
  const digest = sha256(blob);
  const start = await call('POST', `${base}/blobs/uploads/`);
  if (start.status !== 202 || !start.location)
    throw new Error(`registry POST ${base}/blobs/uploads/: HTTP ${start.status}`);
  const url = new URL(start.location, base);
  url.searchParams.set('digest', digest);
  const put = await call('PUT', url.toString(), blob, { 'content-type': 'application/octet-stream' });
  if (put.status !== 201) throw new Error(`registry PUT blob ${digest}: HTTP ${put.status}`);
  return digest;
}

/** Pushes a manifest under a tag or digest; returns its digest. */
export async function putManifest(
  base: string,
  reference: string,
  manifest: Buffer,
  mediaType: string,
): Promise<string> {
  const res = await call('PUT', `${base}/manifests/${reference}`, manifest, { 'content-type': mediaType });
  if (res.status !== 201) throw new Error(`registry PUT manifest ${base}:${reference}: HTTP ${res.status}`);
  return sha256(manifest);
}
