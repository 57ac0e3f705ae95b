// Keyless verification of one signing certificate, as cosign checks a Fulcio certificate (cosign-format.md §6.1,
// sigstore-stack.md §8): it chains to a root of the Fulcio root file (intermediates from that file and from what was
// stored with the signature), the leaf may sign code, its SAN is the expected identity, Fulcio's OIDC-issuer
// extension the expected issuer, and the time of signing — the transparency log's integratedTime, trusted through
// its SET — lies inside the validity of every certificate of the chain (a Fulcio certificate lives ten minutes).
// Parsing and signature checks are node:crypto's X509Certificate (`checkIssued`, `verify`) and @sigstore/core's
// (extensions by OID, SAN, basic constraints, key usage). Path building and the policy are hand-written:
// @sigstore/verify's chain verifier and identity policy are not exported (only its whole `Verifier` is, which needs
// a protobuf bundle, matches the identity only as one anchored-or-not JavaScript regexp, has no issuer regexp, and
// answers "Failed to verify certificate chain" where an auditor needs the broken link named).
import { X509Certificate, type KeyObject } from 'node:crypto';
import { ASN1Obj, X509Certificate as SigstoreCertificate } from '@sigstore/core';
import { ChainsmithError, messageOf } from '../errors.js';
import { displayPath, readInputText } from '../input/read.js';
import type { Check } from './checks.js';
import { keyPolicyProblem, MAX_KEY_FILE_BYTES } from './key.js';

/** Fulcio's OIDC issuer extension, v2: a DER UTF8String (sigstore/fulcio docs/oid-info.md). */
export const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
/** Fulcio's OIDC issuer extension, legacy: the raw string bytes. */
export const OID_FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
/** Fulcio's `username` otherName SAN. */
const OID_FULCIO_USERNAME = '1.3.6.1.4.1.57264.1.7';
/** Extended key usage id-kp-codeSigning. */
export const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const EKU_ANY = '2.5.29.37.0';
/** Longest chain built (leaf, intermediates, root): Fulcio's is 2 or 3. */
const MAX_CHAIN_LENGTH = 6;

/** An expected value: exactly this string, or a match of this regular expression anywhere in it (Go's MatchString). */
export type StringMatcher = { kind: 'exact'; value: string } | { kind: 'regexp'; source: string; re: RegExp };

/** The trust of keyless verification: the Fulcio roots and who must have signed. */
export interface KeylessPolicy {
  kind: 'keyless';
  /** self-signed certificates of the Fulcio root file: the only trust anchors */
  roots: X509Certificate[];
  /** the other certificates of that file: intermediates a chain may use */
  intermediates: X509Certificate[];
  /** the root file's name, for messages */
  rootsName: string;
  identity: StringMatcher;
  issuer: StringMatcher;
}

/** The identity a Fulcio certificate names. */
export interface CertificateIdentity {
  /** the SAN values: URI, email, Fulcio username (first of each kind) */
  sans: string[];
  /** the OIDC issuer: the v2 extension, else the legacy one */
  issuer?: string;
  /** every issuer value the extensions carry (both, when both are present) */
  issuers: string[];
}

/** The time a signature was made, and where that time comes from. */
export interface SigningTime {
  time: Date;
  /**
   * `tlog`: a verified SET's integratedTime; `timestamp`: a verified RFC 3161 timestamp's genTime (Rekor v2 gives
   * no time); `now`: no trusted time (--insecure-ignore-tlog)
   */
  source: 'tlog' | 'timestamp' | 'now';
}

/** What checking a signing certificate gives: the check, and the key to verify with when the certificate passed. */
export interface CertificateVerdict {
  check: Check;
  /** the leaf's public key; only when every certificate check passed */
  key?: KeyObject;
  /** the leaf, when it could be parsed (the transparency-log entry must record it) */
  leaf?: X509Certificate;
  identity?: CertificateIdentity;
}

/** A matcher for a CLI value; `regexp` compiles it (throws SyntaxError on a bad pattern). */
export function stringMatcher(value: string, regexp: boolean): StringMatcher {
  return regexp ? { kind: 'regexp', source: value, re: new RegExp(value, 'u') } : { kind: 'exact', value };
}

/** The matcher as a person reads it in messages. */
export function describeMatcher(m: StringMatcher): string {
  return m.kind === 'exact' ? m.value : `a match of /${m.source}/`;
}

function matches(m: StringMatcher, value: string): boolean {
  return m.kind === 'exact' ? value === m.value : m.re.test(value);
}

/** Every CERTIFICATE block of PEM text, parsed; throws on a block that is not a certificate. */
export function parseCertificatesPem(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/** Splits a Fulcio root file into trust anchors (self-signed) and intermediates; throws when it has no root. */
export function parseFulcioRoots(pem: string, name: string): Omit<KeylessPolicy, 'kind' | 'identity' | 'issuer'> {
  let certs: X509Certificate[];
  try {
    certs = parseCertificatesPem(pem);
  } catch (err) {
    throw new ChainsmithError('KeyUnsupported', `${name}: not a PEM certificate file (${messageOf(err)})`);
  }
  const roots = certs.filter(isSelfSigned);
  if (roots.length === 0)
    throw new ChainsmithError('KeyUnsupported', `${name}: no self-signed root certificate in the file`);
  return { roots, intermediates: certs.filter((c) => !isSelfSigned(c)), rootsName: name };
}

/** Reads `--fulcio-root FILE` (or `$SIGSTORE_ROOT_FILE`). */
export async function readFulcioRootFile(path: string): Promise<Omit<KeylessPolicy, 'kind' | 'identity' | 'issuer'>> {
  let text: string;
  try {
    text = await readInputText(path, { reason: 'KeyNotFound', maxBytes: MAX_KEY_FILE_BYTES });
  } catch (err) {
    throw new ChainsmithError('KeyNotFound', `Fulcio root: ${messageOf(err)}`);
  }
  return parseFulcioRoots(text, displayPath(path));
}

function isSelfSigned(c: X509Certificate): boolean {
  return c.subject === c.issuer && c.checkIssued(c) && c.verify(c.publicKey);
}

/** The SANs and OIDC issuer of a certificate (never throws: an unreadable extension is left out). */
export function certificateIdentity(cert: X509Certificate): CertificateIdentity {
  const sans: string[] = [];
  const issuers: string[] = [];
  try {
    const parsed = SigstoreCertificate.parse(cert.raw);
    const san = parsed.extSubjectAltName;
    for (const v of [san?.uri, san?.rfc822Name, san?.otherName(OID_FULCIO_USERNAME)]) if (v !== undefined) sans.push(v);
    const v2 = parsed.extension(OID_FULCIO_ISSUER_V2);
    if (v2) issuers.push(ASN1Obj.parseBuffer(v2.value as Buffer<ArrayBuffer>).value.toString('utf8'));
    const v1 = parsed.extension(OID_FULCIO_ISSUER_V1);
    if (v1) issuers.push(v1.value.toString('utf8'));
  } catch {
    // a malformed extension: whatever was read so far
  }
  const identity: CertificateIdentity = { sans, issuers };
  if (issuers[0] !== undefined) identity.issuer = issuers[0];
  return identity;
}

const iso = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');
const failed = (detail: string): Check => ({ name: 'certificate', status: 'failed', detail });

/**
 * Checks a signing certificate (PEM or DER) and the certificates stored with it (`chain`, untrusted) against the
 * policy at the signing time: chain to a root of the file, code-signing EKU, identity, issuer, validity.
 */
export function checkSigningCertificate(
  certificate: string | Buffer | undefined,
  chain: X509Certificate[],
  policy: KeylessPolicy,
  signedAt: SigningTime | undefined,
): CertificateVerdict {
  if (certificate === undefined || certificate.length === 0)
    return { check: failed('no certificate stored with the signature (signed with a key, not keylessly?)') };
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certificate);
  } catch (err) {
    return { check: failed(`unreadable certificate: ${messageOf(err)}`) };
  }
  const identity = certificateIdentity(leaf);
  const out = (check: Check, key?: KeyObject): CertificateVerdict => ({
    check,
    leaf,
    identity,
    ...(key ? { key } : {}),
  });

  const path = buildPath(leaf, chain, policy);
  if (typeof path === 'string') return out(failed(path));
  if (leaf.ca) return out(failed('the signing certificate is a CA certificate'));
  const eku = leaf.keyUsage ?? [];
  if (!eku.includes(EKU_CODE_SIGNING))
    return out(failed(`the leaf has no code-signing extended key usage (${eku.join(', ') || 'none'})`));
  for (const ca of path.slice(1)) {
    const caEku = ca.keyUsage;
    if (caEku && !caEku.includes(EKU_CODE_SIGNING) && !caEku.includes(EKU_ANY))
      return out(failed(`${ca.subject.replace(/\n/g, ', ')} may not issue code-signing certificates (its EKU)`));
  }
  const keyProblem = keyPolicyProblem(leaf.publicKey);
  if (keyProblem) return out(failed(`the certificate's key: ${keyProblem}`));

  const sans = identity.sans.length > 0 ? identity.sans.join(', ') : '(no SAN)';
  if (!identity.sans.some((s) => matches(policy.identity, s)))
    return out(failed(`identity ${sans} does not match ${describeMatcher(policy.identity)}`));
  if (identity.issuers.length === 0) return out(failed('the certificate has no Fulcio OIDC issuer extension'));
  if (!identity.issuers.some((i) => matches(policy.issuer, i)))
    return out(failed(`issuer ${identity.issuer ?? ''} does not match ${describeMatcher(policy.issuer)}`));

  const root = path[path.length - 1]!;
  const rootName = root.subject.replace(/\n/g, ', ');
  const via = path.length > 2 ? ` via ${path.length - 2} intermediate(s)` : '';
  const chainDetail = `issued by the Fulcio root ${rootName}${via}`;
  const leafFrom = new Date(leaf.validFrom);
  const leafTo = new Date(leaf.validTo);
  if (!signedAt)
    return out(
      failed(
        `${chainDetail} for ${sans} (issuer ${identity.issuer}), but the signing time is unknown: ` +
          'no verified transparency-log entry (or timestamp), so its validity (' +
          `${iso(leafFrom)} to ${iso(leafTo)}) cannot be checked`,
      ),
    );
  const when = signedAt.source === 'now' ? 'checked at' : 'signed at';
  const at =
    signedAt.source === 'tlog'
      ? iso(signedAt.time)
      : signedAt.source === 'timestamp'
        ? `${iso(signedAt.time)} (RFC 3161 timestamp)`
        : `${iso(signedAt.time)} (now: no transparency-log time)`;
  for (const c of path) {
    const from = new Date(c.validFrom);
    const to = new Date(c.validTo);
    if (signedAt.time < from || signedAt.time > to) {
      const whose = c === leaf ? 'its validity' : `the validity of ${c.subject.replace(/\n/g, ', ')}`;
      const hint =
        signedAt.source === 'now' && c === leaf && signedAt.time > to
          ? '; an expired certificate needs the transparency log’s time: drop --insecure-ignore-tlog'
          : '';
      return out(failed(`${when} ${at} outside ${whose} (${iso(from)} to ${iso(to)})${hint}`));
    }
  }
  const detail =
    `${chainDetail} for ${sans} (issuer ${identity.issuer}); code signing; ${when} ${at}, ` +
    `inside its validity (${iso(leafFrom)} to ${iso(leafTo)})`;
  return out({ name: 'certificate', status: 'passed', detail }, leaf.publicKey);
}

/**
 * The path leaf → … → a trusted root, or why there is none. Only the file's roots are anchors: a root stored with
 * the signature is an untrusted intermediate like the rest (and never an anchor).
 */
function buildPath(leaf: X509Certificate, chain: X509Certificate[], policy: KeylessPolicy): X509Certificate[] | string {
  const untrusted = [...policy.intermediates, ...chain.filter((c) => !isSelfSigned(c))];
  const issues = (child: X509Certificate, parent: X509Certificate): boolean =>
    child.checkIssued(parent) && child.verify(parent.publicKey) && isCaCertificate(parent);
  const walk = (path: X509Certificate[]): X509Certificate[] | undefined => {
    const last = path[path.length - 1]!;
    const root = policy.roots.find((r) => issues(last, r) && pathLengthAllows(r, path.length - 1));
    if (root) return [...path, root];
    if (path.length >= MAX_CHAIN_LENGTH - 1) return undefined;
    for (const next of untrusted) {
      if (path.some((p) => p.raw.equals(next.raw)) || !issues(last, next)) continue;
      if (!pathLengthAllows(next, path.length - 1)) continue;
      const found = walk([...path, next]);
      if (found) return found;
    }
    return undefined;
  };
  const found = walk([leaf]);
  if (found) return found;
  const rootNames = policy.roots.map((r) => r.subject.replace(/\n/g, ', ')).join('; ');
  return (
    `not issued by the Fulcio root: no chain from ${leaf.issuer.replace(/\n/g, ', ')} to a root of ` +
    `${policy.rootsName} (${rootNames})`
  );
}

// basicConstraints CA and, when key usage is present, keyCertSign (@sigstore/core's isCA)
function isCaCertificate(c: X509Certificate): boolean {
  try {
    return SigstoreCertificate.parse(c.raw).isCA;
  } catch {
    return false;
  }
}

// `intermediatesBelow` CA certificates sit between `ca` and the leaf; its pathLenConstraint must allow them
function pathLengthAllows(ca: X509Certificate, intermediatesBelow: number): boolean {
  try {
    const limit = SigstoreCertificate.parse(ca.raw).extBasicConstraints?.pathLenConstraint;
    return limit === undefined || BigInt(intermediatesBelow) <= limit;
  } catch {
    return false;
  }
}
