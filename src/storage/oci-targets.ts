// Which OCI images a signed payload attaches to: the simple-signing payload's image, or each OCI subject
// of an in-toto statement. Subjects that are not OCI images are reported, not fatal (Chains fails the store).
import type { Payload } from '../formats/types.js';
import { isImageDigest, parseReference, type OciReference } from '../reference/reference.js';

/** An image to attach to: registry, repository and `sha256:` digest. */
export type ImageTarget = Required<Pick<OciReference, 'registry' | 'repository' | 'digest'>>;

/** Targets plus one note per skipped subject. */
export interface Targets {
  images: ImageTarget[];
  notes: string[];
}

/** The image a simple-signing payload is about (`docker-reference@docker-manifest-digest`), else the fullKey. */
export function simpleSigningTarget(payload: Buffer, fullKey: string): ImageTarget | undefined {
  let candidate = fullKey;
  try {
    const p = JSON.parse(payload.toString('utf8')) as {
      critical?: { identity?: { 'docker-reference'?: string }; image?: { 'docker-manifest-digest'?: string } };
    };
    const repo = p.critical?.identity?.['docker-reference'];
    const digest = p.critical?.image?.['docker-manifest-digest'];
    if (repo && digest) candidate = `${repo}@${digest}`;
  } catch {
    // not JSON: fall back to fullKey
  }
  const ref = parseReference(candidate);
  if (!ref?.digest || !isImageDigest(ref.digest)) return undefined;
  return { registry: ref.registry, repository: ref.repository, digest: ref.digest };
}

/** The OCI targets among a statement's subjects, de-duplicated, with a note for each subject skipped. */
export function statementTargets(payload: Payload): Targets {
  let subjects = payload.subjects;
  if (!subjects) {
    try {
      subjects = (JSON.parse(payload.bytes.toString('utf8')) as { subject?: Payload['subjects'] }).subject ?? [];
    } catch {
      subjects = [];
    }
  }
  const images: ImageTarget[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  for (const s of subjects) {
    const hex = s.digest?.sha256;
    const ref = parseReference(s.name);
    // Subjects of images always carry their registry (type hinting normalises them); a bare name such as
    // `my-artifact` is an ARTIFACT_URI, not a Docker Hub image, so it is not pushed anywhere.
    if (!ref || ref.tag !== undefined || ref.digest !== undefined || !hasExplicitRegistry(s.name)) {
      notes.push(`subject ${s.name} is not an OCI image; not stored in a registry`);
      continue;
    }
    if (!hex || !/^[0-9a-f]{64}$/.test(hex)) {
      notes.push(`subject ${s.name} has no sha256 digest; not stored in a registry`);
      continue;
    }
    const key = `${ref.registry}/${ref.repository}@sha256:${hex}`;
    if (seen.has(key)) continue;
    seen.add(key);
    images.push({ registry: ref.registry, repository: ref.repository, digest: `sha256:${hex}` });
  }
  return { images, notes };
}

function hasExplicitRegistry(name: string): boolean {
  const first = name.split('/')[0] ?? '';
  return (
    name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))
  );
}
