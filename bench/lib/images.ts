// Real images in the stack's registry for the `oci` storage arms (both controllers read the
// image's manifest before attaching signatures). One small layer per repository is shared; each
// image gets its own config blob, so every run has its own digest, as in a real cluster.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { putManifest, sha256, uploadBlob } from './registry.js';
import type { ImageRef } from './runs.js';

/** Pushes images into `registry/repo`; returns one reference per image. */
export class ImagePusher {
  // One upload of the shared layer, however many pushes start at once: distribution 2.8 can answer a manifest PUT
  // with 400 (blob unknown) while concurrent uploads of the same blob are being committed.
  private layer?: Promise<{ digest: string; size: number; diffId: string }>;

  private readonly base: string;

  constructor(
    private readonly registry: string,
    private readonly repo: string,
  ) {
    this.base = `http://${registry}/v2/${repo}`;
  }

  async push(): Promise<ImageRef> {
    if (!this.layer) {
      const tar = Buffer.alloc(2048); // an empty tar archive is two zero blocks
      const gz = gzipSync(tar);
      this.layer = uploadBlob(this.base, gz).then((digest) => ({ digest, size: gz.length, diffId: sha256(tar) }));
    }
    const layer = await this.layer;
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: { build: randomBytes(8).toString('hex') } },
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      }),
    );
    const configDigest = await uploadBlob(this.base, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
      }),
    );
    const digest = await putManifest(
      this.base,
      sha256(manifest),
      manifest,
      'application/vnd.oci.image.manifest.v1+json',
    );
    return { url: `${this.registry}/${this.repo}`, digest };
  }
}
