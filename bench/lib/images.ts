// Real images in the stack's registry for the `oci` storage arms (both controllers read the
// image's manifest before attaching signatures). One small layer per repository is shared; each
// image gets its own config blob, so every run has its own digest, as in a real cluster.
import { pushImage, uploadLayer, type Layer } from '../../e2e/lib/registry.js';
import type { ImageRef } from './runs.js';

/** Pushes images into `registry/repo`; returns one reference per image. */
export class ImagePusher {
  // One upload of the shared layer, however many pushes start at once: distribution 2.8 can answer a manifest PUT
  // with 400 (blob unknown) while concurrent uploads of the same blob are being committed.
  private layer?: Promise<Layer>;

  private readonly repository: string;

  constructor(registry: string, repo: string) {
    this.repository = `${registry}/${repo}`;
  }

  async push(): Promise<ImageRef> {
    // an empty tar archive is two zero blocks
    this.layer ??= uploadLayer(this.repository, Buffer.alloc(2048));
    const { digest } = await pushImage(this.repository, await this.layer);
    return { url: this.repository, digest };
  }
}
