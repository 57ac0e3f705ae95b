// Manifest, index and descriptor shapes, serialised with go-containerregistry's member order so that
// what we push is byte-identical to what cosign pushes for the same content (stable digests, readable diffs).
import { createHash } from 'node:crypto';

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  size: number;
  digest: string;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

/** An image manifest (OCI or Docker schema 2). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An image index / manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** `sha256:<hex>` of bytes. */
export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A descriptor for bytes of a media type. */
export function descriptorOf(mediaType: string, bytes: Buffer, annotations?: Record<string, string>): Descriptor {
  const d: Descriptor = { mediaType, size: bytes.length, digest: sha256Digest(bytes) };
  if (annotations !== undefined) d.annotations = annotations;
  return d;
}

// Go's encoding/json writes map keys sorted, struct fields in declaration order, and omits `omitempty` zeros.
function sortedMap(m: Record<string, string> | undefined): Record<string, string> | undefined {
  if (m === undefined || Object.keys(m).length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k] as string;
  return out;
}

function orderedDescriptor(d: Descriptor): Record<string, unknown> {
  const o: Record<string, unknown> = { mediaType: d.mediaType, size: d.size, digest: d.digest };
  if (d.urls && d.urls.length > 0) o.urls = d.urls;
  const ann = sortedMap(d.annotations);
  if (ann) o.annotations = ann;
  if (d.platform) o.platform = d.platform;
  if (d.artifactType) o.artifactType = d.artifactType;
  return o;
}

/** Serialises an image manifest with go-containerregistry's `v1.Manifest` field order. */
export function serialiseManifest(m: ImageManifest): Buffer {
  const o: Record<string, unknown> = { schemaVersion: 2 };
  if (m.mediaType) o.mediaType = m.mediaType;
  if (m.artifactType) o.artifactType = m.artifactType;
  o.config = orderedDescriptor(m.config);
  o.layers = m.layers.map(orderedDescriptor);
  const ann = sortedMap(m.annotations);
  if (ann) o.annotations = ann;
  if (m.subject) o.subject = orderedDescriptor(m.subject);
  return Buffer.from(JSON.stringify(o));
}

/** Serialises an image index with go-containerregistry's `v1.IndexManifest` field order. */
export function serialiseIndex(m: ImageIndex): Buffer {
  const o: Record<string, unknown> = { schemaVersion: 2 };
  if (m.mediaType) o.mediaType = m.mediaType;
  if (m.artifactType) o.artifactType = m.artifactType;
  o.manifests = m.manifests.map(orderedDescriptor);
  const ann = sortedMap(m.annotations);
  if (ann) o.annotations = ann;
  if (m.subject) o.subject = orderedDescriptor(m.subject);
  return Buffer.from(JSON.stringify(o));
}

/** Parses manifest JSON as either an image manifest or an index (decided by `manifests` vs `layers`). */
export function parseManifest(bytes: Buffer): ImageManifest | ImageIndex {
  const parsed: unknown = JSON.parse(bytes.toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null) throw new Error('manifest is not a JSON object');
  const o = parsed as Record<string, unknown>;
  if (Array.isArray(o.manifests)) return o as unknown as ImageIndex;
  if (Array.isArray(o.layers) && typeof o.config === 'object') return o as unknown as ImageManifest;
  throw new Error('manifest has neither layers nor manifests');
}

/** True when a parsed manifest is an index. */
export function isIndex(m: ImageManifest | ImageIndex): m is ImageIndex {
  return Array.isArray((m as ImageIndex).manifests);
}
