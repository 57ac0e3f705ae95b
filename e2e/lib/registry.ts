// Test images in a registry over the distribution HTTP API (plain http on loopback), for e2e/ and bench/ alike:
// random images (a gzipped tar layer, a config whose diff_ids match it, an OCI or Docker manifest, or an OCI index
// over two platform images), blobs and manifests pushed and read back. node:http with one keep-alive agent costs
// the client about half the CPU per request of fetch, so bench's ceiling arm measures the registry, not its client.
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { stackEnv } from './env.js';
import { randomSuffix } from './kube.js';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

export interface PushedImage {
  /** `<registry>/<repo>@<digest>`. */
  ref: string;
  /** `<registry>/<repo>`, what a Tekton IMAGE_URL result holds. */
  repository: string;
  /** The tag the manifest (or index) was pushed under. */
  tag: string;
  /** Digest of the pushed manifest (of the index for `index`). */
  digest: string;
  /** For `index`: the digests of the linux/amd64 and linux/arm64 images, in that order. */
  platformDigests?: string[];
}

export interface PushOptions {
  mediaType?: 'oci' | 'docker' | 'index';
  /** Tag to push under (default a random `t-xxxxxx`). */
  tag?: string;
}

/** A layer blob in a repository, with the diff_id (digest of the uncompressed tar) a config lists for it. */
export interface Layer {
  digest: string;
  size: number;
  diffId: string;
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  json: Record<string, unknown>;
}

/** sha256:<hex> of some bytes. */
export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

// ---- HTTP ----------------------------------------------------------------------------------------------------

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const TIMEOUT_MS = 30_000;

/** Closes the kept-alive connections (before a process exits). */
export function closeRegistryConnections(): void {
  agent.destroy();
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** empty unless the request asked for it */
  body: Buffer;
}

function call(
  method: string,
  url: string,
  opts: { body?: Buffer; headers?: Record<string, string>; readBody?: boolean } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: { 'content-length': String(opts.body?.length ?? 0), ...opts.headers },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      },
      (res) => {
        const chunks: Buffer[] = [];
        if (opts.readBody) res.on('data', (c: Buffer) => chunks.push(c));
        else res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

function failed(what: string, res: Answer): Error {
  return new Error(`registry ${what}: HTTP ${res.status} ${res.body.toString('utf8').slice(0, 300)}`.trim());
}

/** Splits `[registry/]repo` into the registry host and the repository path (default: the stack's registry). */
export function splitRepo(repo: string): { registry: string; path: string } {
  const first = repo.split('/')[0]!;
  if (repo.includes('/') && (first.includes(':') || first.includes('.') || first === 'localhost')) {
    return { registry: first, path: repo.slice(first.length + 1) };
  }
  return { registry: stackEnv().registry, path: repo };
}

function v2(repo: string): string {
  const { registry, path } = splitRepo(repo);
  return `http://${registry}/v2/${path}`;
}

// ---- pushing -------------------------------------------------------------------------------------------------

/** Uploads a blob to `[registry/]repo` (POST, then PUT with the bytes); returns its digest. */
export async function uploadBlob(repo: string, blob: Buffer): Promise<string> {
  const digest = sha256Digest(blob);
  const base = v2(repo);
  const start = await call('POST', `${base}/blobs/uploads/`, { readBody: true });
  const location = start.headers.location;
  if (start.status !== 202 || !location) throw failed(`POST ${base}/blobs/uploads/`, start);
  const url = new URL(location, base);
  url.searchParams.set('digest', digest);
  const put = await call('PUT', url.toString(), {
    body: blob,
    headers: { 'content-type': 'application/octet-stream' },
    readBody: true,
  });
  if (put.status !== 201) throw failed(`PUT blob ${digest}`, put);
  return digest;
}

/** PUTs a manifest under a tag or digest; checks the registry computed the same digest, and returns it. */
export async function putManifest(repo: string, reference: string, mediaType: string, body: Buffer): Promise<string> {
  const digest = sha256Digest(body);
  const res = await call('PUT', `${v2(repo)}/manifests/${reference}`, {
    body,
    headers: { 'content-type': mediaType },
    readBody: true,
  });
  if (res.status !== 201) throw failed(`PUT manifest ${repo}:${reference}`, res);
  const server = res.headers['docker-content-digest'];
  if (server && server !== digest)
    throw new Error(`registry computed digest ${server} for ${repo}, expected ${digest}`);
  return digest;
}

/** A one-file POSIX tar archive (ustar), enough for a real image layer. */
export function tarOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => header.write(s.slice(0, len), off, len, 'ascii');
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(content.length, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  header.fill(' ', 148, 156); // checksum is computed with its own field as spaces
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(octal(sum, 7) + ' ', 148, 8);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
}

/** Gzips a tar archive and uploads it as a layer of `[registry/]repo`. */
export async function uploadLayer(repo: string, tar: Buffer): Promise<Layer> {
  const blob = gzipSync(tar);
  return { digest: await uploadBlob(repo, blob), size: blob.length, diffId: sha256Digest(tar) };
}

/**
 * Pushes a single-platform image over an uploaded `layer`: a config of its own (a random label, so every image
 * has its own digest) and an OCI (default) or Docker v2 manifest, under `reference` (default: its digest).
 */
export async function pushImage(
  repo: string,
  layer: Layer,
  opts: { kind?: 'oci' | 'docker'; reference?: string; platform?: { architecture: string; os: string } } = {},
): Promise<Descriptor> {
  const platform = opts.platform ?? { architecture: 'amd64', os: 'linux' };
  const oci = (opts.kind ?? 'oci') === 'oci';
  const config = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      created: new Date().toISOString(),
      config: { Labels: { 'chainsmith.dev/test-image': randomSuffix(8) } },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    }),
  );
  const configDigest = await uploadBlob(repo, config);
  const mediaType = oci ? MEDIA.ociManifest : MEDIA.dockerManifest;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: oci ? MEDIA.ociConfig : MEDIA.dockerConfig, digest: configDigest, size: config.length },
      layers: [{ mediaType: oci ? MEDIA.ociLayer : MEDIA.dockerLayer, digest: layer.digest, size: layer.size }],
    }),
  );
  const digest = await putManifest(repo, opts.reference ?? sha256Digest(manifest), mediaType, manifest);
  return { mediaType, digest, size: manifest.length, platform };
}

/**
 * Pushes a random image to `repo` (`name/space` on the stack's registry, or `host:port/name`): an OCI (default)
 * or Docker v2 manifest, or an OCI index over linux/amd64 and linux/arm64 images, each with a random layer.
 */
export async function pushRandomImage(repo: string, opts: PushOptions = {}): Promise<PushedImage> {
  const { registry, path } = splitRepo(repo);
  const repository = `${registry}/${path}`;
  const tag = opts.tag ?? `t-${randomSuffix()}`;
  const randomLayer = () => uploadLayer(repository, tarOneFile('random.bin', randomBytes(1024)));
  const kind = opts.mediaType ?? 'oci';
  if (kind !== 'index') {
    const { digest } = await pushImage(repository, await randomLayer(), { kind, reference: tag });
    return { ref: `${repository}@${digest}`, repository, tag, digest };
  }
  const manifests: Descriptor[] = [];
  for (const architecture of ['amd64', 'arm64'])
    manifests.push(await pushImage(repository, await randomLayer(), { platform: { architecture, os: 'linux' } }));
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests }));
  const digest = await putManifest(repository, tag, MEDIA.ociIndex, index);
  return { ref: `${repository}@${digest}`, repository, tag, digest, platformDigests: manifests.map((m) => m.digest) };
}

// ---- reading -------------------------------------------------------------------------------------------------

/** GETs a manifest (by tag or digest) from `[registry/]repo`; undefined when the registry says 404. */
export async function fetchManifest(repo: string, reference: string): Promise<FetchedManifest | undefined> {
  const accept = [MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerManifestList].join(', ');
  const res = await call('GET', `${v2(repo)}/manifests/${reference}`, { headers: { accept }, readBody: true });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw failed(`GET manifest ${repo}:${reference}`, res);
  return {
    mediaType: res.headers['content-type'] ?? '',
    digest: String(res.headers['docker-content-digest'] ?? sha256Digest(res.body)),
    bytes: res.body,
    json: JSON.parse(res.body.toString('utf8')) as Record<string, unknown>,
  };
}

/** The layers of the manifest `[registry/]repo:reference`, or [] when there is none. */
export async function layersOf(repo: string, reference: string): Promise<Descriptor[]> {
  const m = await fetchManifest(repo, reference);
  return (m?.json.layers as Descriptor[] | undefined) ?? [];
}

/** GETs a blob by digest from `[registry/]repo`. */
export async function fetchBlob(repo: string, digest: string): Promise<Buffer> {
  const res = await call('GET', `${v2(repo)}/blobs/${digest}`, { readBody: true });
  if (res.status !== 200) throw failed(`GET blob ${repo}@${digest}`, res);
  return res.body;
}

/** DELETEs a manifest by digest (its tags go with it; its blobs stay). */
export async function deleteManifest(repo: string, digest: string): Promise<void> {
  const res = await call('DELETE', `${v2(repo)}/manifests/${digest}`, { readBody: true });
  if (res.status !== 202) throw failed(`DELETE manifest ${repo}@${digest}`, res);
}
