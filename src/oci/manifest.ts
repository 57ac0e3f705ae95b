// Manifest, index and descriptor shapes, serialised with go-containerregistry's member order so that
// what we push is byte-identical to what cosign pushes for the same content (stable digests, readable diffs).
import { createHash } from 'node:crypto';
import { ChainsmithError } from '../errors.js';
import { isGrammarDigest } from '../reference/grammar.js';
import { MAX_INDEX_MANIFESTS, MAX_MANIFEST_BYTES, MAX_MANIFEST_LAYERS } from './limits.js';

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

/** RFC 6838 `type/subtype` (no parameters), the form of every OCI and Docker media type. */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** True for a media type of the form registries use (`type/subtype`, no parameters). */
export function isMediaType(s: unknown): s is string {
  return typeof s === 'string' && MEDIA_TYPE.test(s);
}

function invalid(what: string, detail: string): ChainsmithError {
  return new ChainsmithError('RegistryError', `${what}: ${detail}`);
}

function stringMap(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(what, 'annotations is not an object');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw invalid(what, `annotation ${JSON.stringify(k.slice(0, 100))} is not a string`);
    out[k] = val;
  }
  return out;
}

/** A descriptor from a registry, checked: media type, grammar digest, size; only known members are kept. */
export function validDescriptor(v: unknown, what: string): Descriptor {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(what, 'descriptor is not an object');
  const o = v as Record<string, unknown>;
  if (!isMediaType(o.mediaType)) throw invalid(what, 'descriptor has no valid mediaType');
  if (typeof o.digest !== 'string' || !isGrammarDigest(o.digest)) throw invalid(what, 'descriptor has no valid digest');
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) {
    throw invalid(what, 'descriptor has no valid size');
  }
  const d: Descriptor = { mediaType: o.mediaType, size: o.size, digest: o.digest };
  if (Array.isArray(o.urls) && o.urls.every((u) => typeof u === 'string')) d.urls = o.urls as string[];
  const annotations = stringMap(o.annotations, what);
  if (annotations) d.annotations = annotations;
  const p = o.platform as Record<string, unknown> | undefined;
  if (typeof p === 'object' && p !== null && typeof p.architecture === 'string' && typeof p.os === 'string') {
    const platform: Platform = { architecture: p.architecture, os: p.os };
    if (typeof p['os.version'] === 'string') platform['os.version'] = p['os.version'];
    if (typeof p.variant === 'string') platform.variant = p.variant;
    const features = p['os.features'];
    if (Array.isArray(features) && features.every((f) => typeof f === 'string')) platform['os.features'] = features;
    d.platform = platform;
  }
  if (o.artifactType !== undefined) {
    if (!isMediaType(o.artifactType)) throw invalid(what, 'descriptor has an invalid artifactType');
    d.artifactType = o.artifactType;
  }
  return d;
}

/**
 * Parses and validates manifest JSON from a registry as an image manifest or an index (decided by `manifests` vs
 * `layers`). Descriptors must be well formed; more than MAX_MANIFEST_LAYERS layers or MAX_INDEX_MANIFESTS entries
 * are refused before any of them is looked at. Throws ChainsmithError('RegistryError') naming `what`.
 */
export function parseManifest(bytes: Buffer, what = 'manifest'): ImageManifest | ImageIndex {
  if (bytes.length > MAX_MANIFEST_BYTES) throw invalid(what, `larger than ${MAX_MANIFEST_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid(what, 'not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid(what, 'not a JSON object');
  const o = parsed as Record<string, unknown>;
  if (o.schemaVersion !== 2) throw invalid(what, 'schemaVersion is not 2');
  const head: Pick<ImageIndex, 'mediaType' | 'artifactType' | 'subject' | 'annotations'> = {};
  for (const k of ['mediaType', 'artifactType'] as const) {
    if (o[k] === undefined) continue;
    if (!isMediaType(o[k])) throw invalid(what, `invalid ${k}`);
    head[k] = o[k];
  }
  if (o.subject !== undefined) head.subject = validDescriptor(o.subject, `${what} subject`);
  const annotations = stringMap(o.annotations, what);
  if (annotations) head.annotations = annotations;
  if (Array.isArray(o.manifests)) {
    if (o.manifests.length > MAX_INDEX_MANIFESTS) {
      throw invalid(what, `lists ${o.manifests.length} manifests; at most ${MAX_INDEX_MANIFESTS} are read`);
    }
    const manifests = o.manifests.map((m, i) => validDescriptor(m, `${what} manifests[${i}]`));
    return { schemaVersion: 2, ...head, manifests };
  }
  if (Array.isArray(o.layers) && typeof o.config === 'object') {
    if (o.layers.length > MAX_MANIFEST_LAYERS) {
      throw invalid(what, `has ${o.layers.length} layers; at most ${MAX_MANIFEST_LAYERS} are read`);
    }
    const config = validDescriptor(o.config, `${what} config`);
    const layers = o.layers.map((l, i) => validDescriptor(l, `${what} layers[${i}]`));
    return { schemaVersion: 2, ...head, config, layers };
  }
  throw invalid(what, 'has neither layers nor manifests');
}

/** True when a parsed manifest is an index. */
export function isIndex(m: ImageManifest | ImageIndex): m is ImageIndex {
  return Array.isArray((m as ImageIndex).manifests);
}
