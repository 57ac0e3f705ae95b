// Real images in the stack's registry for the `oci` storage arms (both controllers read the
// image's manifest before attaching signatures). One small layer per repository is shared; each
// image gets its own config blob, so every run has its own digest, as in a real cluster.
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ImageRef } from './runs.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function put(url: string, init: RequestInit, expect: number): Promise<Response> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  if (res.status !== expect) throw new Error(`registry ${init.method} ${url}: HTTP ${res.status}`);
  return res;
}

async function pushBlob(registry: string, repo: string, data: Buffer): Promise<string> {
  const digest = sha(data);
  const start = await put(`http://${registry}/v2/${repo}/blobs/uploads/`, { method: 'POST' }, 202);
  await start.arrayBuffer();
  const loc = new URL(start.headers.get('location') ?? '', `http://${registry}`);
  loc.searchParams.set('digest', digest);
  const res = await put(loc.toString(), { method: 'PUT', body: data, headers: { 'Content-Type': 'application/octet-stream' } }, 201);
  await res.arrayBuffer();
  return digest;
}

/** Pushes images into `registry/repo`; returns one reference per image. */
export class ImagePusher {
  private layer?: { digest: string; size: number; diffId: string };

  constructor(
    private readonly registry: string,
    private readonly repo: string,
  ) {}

  async push(): Promise<ImageRef> {
    if (!this.layer) {
      const tar = Buffer.alloc(2048); // an empty tar archive is two zero blocks
      const gz = gzipSync(tar);
      this.layer = { digest: await pushBlob(this.registry, this.repo, gz), size: gz.length, diffId: sha(tar) };
    }
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { build: randomBytes(8).toString('hex') } }, rootfs: { type: 'layers', diff_ids: [this.layer.diffId] } }),
    );
    const configDigest = await pushBlob(this.registry, this.repo, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: this.layer.digest, size: this.layer.size }],
      }),
    );
    const digest = sha(manifest);
    const res = await put(
      `http://${this.registry}/v2/${this.repo}/manifests/${digest}`,
      { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } },
      201,
    );
    await res.arrayBuffer();
    return { url: `${this.registry}/${this.repo}`, digest };
  }
}
