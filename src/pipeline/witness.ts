// `chainsmith.signing-config`: records each signature with the services a sigstore SigningConfig selects — its
// transparency log (Rekor v1 or v2) and, when it names one, its timestamp authority — as cosign v3 does. The file is
// read again when it changes (its mtime), so a switch from Rekor v1 to v2 needs no restart.
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { ChainsmithError, messageOf } from '../errors.js';
import { certificateDer, dsseRequest, hashedRekordRequest, RekorV2Client } from '../sigstore/rekor-v2.js';
import type { ProposedEntry } from '@sigstore/rekor-types';
import { proposedEntry, verifierPem, type AttestationEntryType, type TlogEntry } from '../sigstore/rekor.js';
import { signingServices, type SigningServices } from '../sigstore/signing-config.js';
import { timestampSignature } from '../sigstore/tsa.js';
import type { SignedPayload } from '../signing/signer.js';
import { TransparencyLogEntry } from '@sigstore/protobuf-specs';
import { tlogEntryJson } from '../sigstore/bundle.js';
import { checkTimestamps } from '../verify/timestamp.js';
import { checkRekorV2Entry } from '../verify/tlog-v2.js';
import { recordFromEntry, setFailure, type StoredBytes } from '../verify/tlog.js';
import { readTrustedRootFile, trustedLog, type TrustedRootMaterial } from '../verify/trusted-root.js';

/** Uploads a proposed entry to the Rekor v1 log at a URL: the controller's `transparency.url` client (signing-deps). */
export type RekorV1Upload = (url: string, entry: ProposedEntry) => Promise<TlogEntry>;

/** A file parsed once per change of its mtime; InvalidConfig naming `key` when it cannot be read or used. */
class FileFollower<T> {
  private cached: { file: string; mtimeMs: number; value: T } | undefined;

  constructor(
    private readonly key: string,
    private readonly parse: (file: string) => Promise<T>,
  ) {}

  async get(file: string): Promise<T> {
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(file)).mtimeMs;
    } catch (err) {
      throw new ChainsmithError('InvalidConfig', `${this.key}: cannot read ${file}: ${messageOf(err)}`);
    }
    if (this.cached?.file === file && this.cached.mtimeMs === mtimeMs) return this.cached.value;
    let value: T;
    try {
      value = await this.parse(file);
    } catch (err) {
      if (err instanceof ChainsmithError && err.reason === 'InvalidConfig') throw err;
      throw new ChainsmithError('InvalidConfig', `${this.key}: ${messageOf(err)}`);
    }
    this.cached = { file, mtimeMs, value };
    return value;
  }
}

/** One witness per controller; the Rekor v2 client is kept per URL. */
export class SigningConfigWitness {
  private readonly config = new FileFollower('chainsmith.signing-config', async (file) =>
    signingServices(await readFile(file), file),
  );
  private readonly trustedRoot = new FileFollower('chainsmith.trusted-root', readTrustedRootFile);
  private v2: { url: string; client: RekorV2Client } | undefined;

  /** `uploadV1`: Rekor v1 uploads go through the controller's own client (and its SIGSTORE_REKOR_PUBLIC_KEY check). */
  constructor(private readonly uploadV1: RekorV1Upload) {}

  /** The services of `file` now (InvalidConfig when it cannot be read or used). */
  services(file: string): Promise<SigningServices> {
    return this.config.get(file);
  }

  /** The trusted root at `file` now (InvalidConfig when it cannot be read or used). */
  root(file: string): Promise<TrustedRootMaterial> {
    return this.trustedRoot.get(file);
  }

  /** Logs the signature (and timestamps it when the config names a timestamp authority). */
  async witness(
    file: string,
    kind: 'simplesigning' | 'in-toto',
    signed: SignedPayload,
    attestationEntryType: AttestationEntryType,
    trustedRootFile?: string,
    /** an attestation stored in cosign's tag layout: also timestamp the whole envelope (`envelopeTimestamp`) */
    timestampEnvelope = false,
  ): Promise<TlogEntry> {
    const services = await this.services(file);
    const rekor = services.rekor;
    if (!rekor)
      throw new ChainsmithError('InvalidConfig', `signing config ${file} names no transparency log (rekorTlogUrls)`);
    // as cosign v3 (since v3.0.5) requires: Rekor v2 gives no signing time, a timestamp authority does
    if (rekor.majorApiVersion === 2 && !services.tsa)
      throw new ChainsmithError(
        'InvalidConfig',
        `signing config ${file}: Rekor v2 records no signing time, so it needs a timestamp authority (tsaUrls)`,
      );
    // the timestamp first: when the authority is down nothing is logged, so its retry adds no second log entry
    const timestamps = services.tsa ? [await timestampSignature(services.tsa.url, signatureBytes(kind, signed))] : [];
    const envelopeTimestamp =
      services.tsa && kind === 'in-toto' && timestampEnvelope
        ? await timestampSignature(services.tsa.url, signed.signature)
        : undefined;
    const entry =
      rekor.majorApiVersion === 2
        ? await this.logV2(rekor.url, kind, signed)
        : await this.uploadV1(
            rekor.url,
            proposedEntry(kind, signed, verifierPem(signed.cert, signed.publicKey), attestationEntryType),
          );
    const witnessed: TlogEntry = {
      ...entry,
      logUrl: rekor.url,
      majorApiVersion: rekor.majorApiVersion === 2 ? 2 : 1,
      ...(timestamps.length > 0 ? { rfc3161Timestamps: timestamps } : {}),
      ...(envelopeTimestamp ? { envelopeTimestamp } : {}),
    };
    if (trustedRootFile !== undefined) this.checkWithRoot(await this.root(trustedRootFile), witnessed, kind, signed);
    return witnessed;
  }

  /**
   * What the services returned must verify against the trusted root, as a verifier will check it: the entry (Rekor
   * v2: log, body, inclusion proof, checkpoint; Rekor v1: its SET by the root's key for its log) and the timestamps.
   * A failure is not transient: the services answer, but not as the trusted root says they should.
   */
  private checkWithRoot(
    root: TrustedRootMaterial,
    entry: TlogEntry,
    kind: 'simplesigning' | 'in-toto',
    signed: SignedPayload,
  ): void {
    const stored: StoredBytes =
      kind === 'simplesigning'
        ? { kind: 'signature', payload: signed.payload, signature: signed.signature }
        : { kind: 'envelope', envelope: signed.signature };
    const der = signed.cert !== '' ? certificateDer(signed.cert) : undefined;
    const signer = der ? new X509Certificate(der) : signed.publicKey;
    const stamps = entry.rfc3161Timestamps ?? [];
    const ts = checkTimestamps(stamps, signatureBytes(kind, signed), root.timestampAuthorities, stamps.length > 0);
    const checks = [ts.check];
    if (entry.envelopeTimestamp)
      checks.push(checkTimestamps([entry.envelopeTimestamp], signed.signature, root.timestampAuthorities, true).check);
    if (entry.majorApiVersion === 2) {
      const tle = TransparencyLogEntry.fromJSON(tlogEntryJson(entry));
      const { logId, kindVersion } = tle;
      if (logId && kindVersion)
        checks.push(
          ...checkRekorV2Entry({ ...tle, logId, kindVersion }, root, stored, signer, ts.times[0] ?? new Date()),
        );
      else checks.push({ name: 'tlog', status: 'failed', detail: 'the entry has no log ID or kind' });
    } else {
      const log = trustedLog(root, entry.logID);
      const record = recordFromEntry(entry);
      const why = !log
        ? `the entry is from log ${entry.logID}, not a transparency log of the trusted root ${root.name}`
        : typeof record === 'string'
          ? record
          : setFailure(record, { key: log.key, logID: log.logID });
      if (why) checks.push({ name: 'tlog', status: 'failed', detail: why });
    }
    const bad = checks.find((c) => c.status === 'failed');
    if (bad)
      throw new ChainsmithError(
        'TransparencyFailed',
        `${entry.logUrl ?? 'the log'}: what it returned does not verify against the trusted root ${root.name} ` +
          `(chainsmith.trusted-root): ${bad.name}: ${bad.detail}`,
      );
  }

  private async logV2(url: string, kind: 'simplesigning' | 'in-toto', signed: SignedPayload): Promise<TlogEntry> {
    if (this.v2?.url !== url) this.v2 = { url, client: new RekorV2Client({ url }) };
    const certificate = signed.cert !== '' ? certificateDer(signed.cert) : undefined;
    const publicKey = certificate ? new X509Certificate(certificate).publicKey : signed.publicKey;
    if (!publicKey)
      throw new ChainsmithError('TransparencyFailed', 'the signer has neither a certificate nor a public key');
    const verifier = { publicKey, ...(certificate ? { certificate } : {}) };
    return this.v2.client.upload(
      kind === 'simplesigning'
        ? hashedRekordRequest(signed.payload, signed.signature, verifier)
        : dsseRequest(signed.signature, verifier),
    );
  }
}

/** The bytes a timestamp is over: the raw signature, or the DSSE envelope's (first) signature. */
function signatureBytes(kind: 'simplesigning' | 'in-toto', signed: SignedPayload): Buffer {
  if (kind === 'simplesigning') return signed.signature;
  const env = JSON.parse(signed.signature.toString('utf8')) as { signatures?: Array<{ sig?: string }> };
  return Buffer.from(env.signatures?.[0]?.sig ?? '', 'base64');
}
