// Pushes real, random images to the stack's registry over the distribution HTTP API (plain http on
// loopback), so tests sign and verify images that exist: a gzipped tar layer, a config whose
// diff_ids match it, and a manifest (OCI or Docker), or an OCI index over two platform images.
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { stackEnv } from './env.js';
import { randomSuffix } from './kube.js';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

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

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
}

/** sha256:<hex> of some bytes. */
export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Splits `[registry/]repo` into registry host and repository path (default: the stack's registry). */
function splitRepo(repo: string): { registry: string; path: string } {
  const first = repo.split('/')[0]!;
  if (repo.includes('/') && (first.includes(':') || first.includes('.') || first === 'localhost')) {
    return { registry: first, path: repo.slice(first.length + 1) };
  }
  return { registry: stackEnv().registry, path: repo };
}

/** A one-file POSIX tar archive (ustar), enough for a real image layer. */
function tarOneFile(name: string, content: Buffer): Buffer {
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

async function registryFetch(url: string, init: RequestInit, what: string, expect: number[]): Promise<Response> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  if (!expect.includes(res.status)) {
    throw new Error(`registry ${what}: HTTP ${res.status} ${await res.text().catch(() => '')}`.trim());
  }
  return res;
}

/** Uploads one blob (monolithic POST + PUT), skipping it when the registry already has it. */
async function pushBlob(registry: string, path: string, data: Buffer): Promise<string> {
  const digest = sha256Digest(data);
  const base = `http://${registry}/v2/${path}`;
  const head = await fetch(`${base}/blobs/${digest}`, { method: 'HEAD', signal: AbortSignal.timeout(30_000) });
  if (head.status === 200) return digest;
  const start = await registryFetch(`${base}/blobs/uploads/`, { method: 'POST' }, `start upload to ${path}`, [202]);
  const location = new URL(start.headers.get('location') ?? '', `http://${registry}`);
  location.searchParams.set('digest', digest);
  await registryFetch(
    location.toString(),
    { method: 'PUT', body: data, headers: { 'Content-Type': 'application/octet-stream' } },
    `upload blob ${digest}`,
    [201],
  );
  return digest;
}

/** PUTs a manifest under a tag or digest; checks the registry computed the same digest. */
async function putManifest(
  registry: string,
  path: string,
  reference: string,
  mediaType: string,
  body: Buffer,
): Promise<string> {
  const digest = sha256Digest(body);
  const res = await registryFetch(
    `http://${registry}/v2/${path}/manifests/${reference}`,
    { method: 'PUT', body, headers: { 'Content-Type': mediaType } },
    `put manifest ${path}:${reference}`,
    [201],
  );
  const server = res.headers.get('docker-content-digest');
  if (server && server !== digest)
    throw new Error(`registry computed digest ${server} for ${path}, expected ${digest}`);
  return digest;
}

/** Pushes one random single-platform image; returns its manifest descriptor. */
async function pushSingleImage(
  registry: string,
  path: string,
  kind: 'oci' | 'docker',
  reference: string | undefined,
  platform = { architecture: 'amd64', os: 'linux' },
): Promise<Descriptor> {
  const tar = tarOneFile('random.bin', randomBytes(1024));
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      created: new Date().toISOString(),
      config: { Labels: { 'chainsmith.dev/e2e': randomSuffix(8) } },
      rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
    }),
  );
  const layerDigest = await pushBlob(registry, path, layer);
  const configDigest = await pushBlob(registry, path, config);
  const oci = kind === 'oci';
  const mediaType = oci ? MEDIA.ociManifest : MEDIA.dockerManifest;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: oci ? MEDIA.ociConfig : MEDIA.dockerConfig, digest: configDigest, size: config.length },
      layers: [{ mediaType: oci ? MEDIA.ociLayer : MEDIA.dockerLayer, digest: layerDigest, size: layer.length }],
    }),
  );
  const digest = sha256Digest(manifest);
  await putManifest(registry, path, reference ?? digest, mediaType, manifest);
  return { mediaType, digest, size: manifest.length, platform };
}

/**
 * Pushes a random image to `repo` (`name/space` on the stack's registry, or `host:port/name`):
 * an OCI (default) or Docker v2 manifest, or an OCI index over linux/amd64 and linux/arm64 images.
 */
export async function pushRandomImage(repo: string, opts: PushOptions = {}): Promise<PushedImage> {
  const { registry, path } = splitRepo(repo);
  const tag = opts.tag ?? `t-${randomSuffix()}`;
  const kind = opts.mediaType ?? 'oci';
  const repository = `${registry}/${path}`;
  if (kind !== 'index') {
    const { digest } = await pushSingleImage(registry, path, kind, tag);
    return { ref: `${repository}@${digest}`, repository, tag, digest };
  }
  const platforms = [
    { architecture: 'amd64', os: 'linux' },
    { architecture: 'arm64', os: 'linux' },
  ];
  const manifests: Descriptor[] = [];
  for (const p of platforms) manifests.push(await pushSingleImage(registry, path, 'oci', undefined, p));
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests }));
  const digest = await putManifest(registry, path, tag, MEDIA.ociIndex, index);
  return { ref: `${repository}@${digest}`, repository, tag, digest, platformDigests: manifests.map((m) => m.digest) };
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  json: Record<string, unknown>;
}

/** GETs a manifest (by tag or digest) from `[registry/]repo`; undefined when the registry says 404. */
export async function fetchManifest(repo: string, reference: string): Promise<FetchedManifest | undefined> {
  const { registry, path } = splitRepo(repo);
  const res = await fetch(`http://${registry}/v2/${path}/manifests/${reference}`, {
    headers: {
      Accept: [
        MEDIA.ociManifest,
        MEDIA.ociIndex,
        MEDIA.dockerManifest,
        'application/vnd.docker.distribution.manifest.list.v2+json',
      ].join(', '),
    },
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`registry get manifest ${path}:${reference}: HTTP ${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    mediaType: res.headers.get('content-type') ?? '',
    digest: res.headers.get('docker-content-digest') ?? sha256Digest(bytes),
    bytes,
    json: JSON.parse(bytes.toString('utf8')) as Record<string, unknown>,
  };
}
