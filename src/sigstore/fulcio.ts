// A Fulcio v2 client: one signing certificate for a public key, in exchange for an OIDC identity token and a proof
// of possession (the token's subject signed with the key). Hand-written rather than @sigstore/sign's FulcioSigner:
// that returns only the leaf certificate, where Chains stores the chain too (`chains.tekton.dev/chain-<key>`,
// `dev.sigstore.cosign/chain`); it asks for a new certificate on every signature; its fetch has no bound on the
// answer; and it reports every refusal as "error creating signing certificate" where an operator needs Fulcio's
// message. The request and response are Fulcio's `CreateSigningCertificateRequest` / `SigningCertificate` (JSON).
// Fulcio's answers are untrusted: bounded, deadlines, and the leaf must certify the key we asked for.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { ChainsmithError, messageOf } from '../errors.js';
import { HttpTransport, ResponseTooLargeError, type HttpResponse } from '../oci/transport.js';
import { serviceBase, serviceMessage } from './service.js';

/** Largest Fulcio answer read: a chain of three certificates is ~3 kB. */
export const MAX_FULCIO_RESPONSE_BYTES = 256 * 1024;
export const FULCIO_TIMEOUT_MS = 30_000;

/** A certificate from Fulcio: the leaf and the rest of its chain, as PEM. */
export interface SigningCertificate {
  /** the leaf, PEM */
  cert: string;
  /** intermediates and root, concatenated PEM ("" when Fulcio sent only the leaf) */
  chain: string;
  leaf: X509Certificate;
}

export interface FulcioClientOptions {
  /** `signers.x509.fulcio.address` */
  url: string;
  timeoutMs?: number;
  maxResponseBytes?: number;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export class FulcioClient {
  readonly url: string;
  private readonly base: string;
  private readonly transport: HttpTransport;
  private readonly maxBytes: number;

  constructor(opts: FulcioClientOptions) {
    this.url = opts.url;
    this.base = serviceBase(opts.url, 'signers.x509.fulcio.address');
    this.maxBytes = opts.maxResponseBytes ?? MAX_FULCIO_RESPONSE_BYTES;
    this.transport = new HttpTransport({
      timeoutMs: opts.timeoutMs ?? FULCIO_TIMEOUT_MS,
      idleTimeoutMs: opts.timeoutMs ?? FULCIO_TIMEOUT_MS,
      maxBodyBytes: this.maxBytes,
    });
  }

  /**
   * Asks for a certificate for `publicKey`. `proof` is the signature of the token's subject with the matching private
   * key. Throws KeylessFailed: transient for network errors, timeouts, 5xx and 429; Fulcio's message otherwise.
   */
  async signingCertificate(jwt: string, publicKey: KeyObject, proof: Buffer): Promise<SigningCertificate> {
    const request = {
      credentials: { oidcIdentityToken: jwt },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
        proofOfPossession: proof.toString('base64'),
      },
    };
    let res: HttpResponse;
    try {
      res = await this.transport.send({
        method: 'POST',
        url: `${this.base}/api/v2/signingCert`,
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(request)),
      });
    } catch (err) {
      if (err instanceof ResponseTooLargeError)
        throw this.fail(`the answer is larger than ${this.maxBytes} bytes`, false, err);
      throw this.fail(`POST /api/v2/signingCert failed: ${messageOf(err)}`, true, err);
    }
    if (res.status !== 200 && res.status !== 201) {
      const transient = res.status >= 500 || res.status === 429 || res.status === 408;
      const message = serviceMessage(res.body);
      throw this.fail(`HTTP ${res.status}${message ? `: ${message}` : ''}`, transient);
    }
    const pems = certificatesOf(res.body);
    if (typeof pems === 'string') throw this.fail(`not a signing certificate: ${pems}`, false);
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(pems[0]!);
      for (const pem of pems.slice(1)) new X509Certificate(pem);
    } catch (err) {
      throw this.fail(`the answer holds an unreadable certificate: ${messageOf(err)}`, false);
    }
    const asked = publicKey.export({ type: 'spki', format: 'der' });
    if (!leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(asked))
      throw this.fail('the certificate is for another public key than the one asked for', false);
    return { cert: withNewline(pems[0]!), chain: pems.slice(1).map(withNewline).join(''), leaf };
  }

  private fail(detail: string, transient: boolean, cause?: unknown): ChainsmithError {
    return new ChainsmithError('KeylessFailed', `fulcio ${this.base}: ${detail}`, {
      transient,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

const withNewline = (pem: string): string => (pem.endsWith('\n') ? pem : `${pem}\n`);

/** The PEM chain of Fulcio's answer (embedded- or detached-SCT form), leaf first; or why there is none. */
export function certificatesOf(body: Buffer): string[] | string {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return 'not JSON';
  }
  const o = doc as Record<string, { chain?: { certificates?: unknown } } | undefined> | null;
  if (o === null || typeof o !== 'object') return 'not a JSON object';
  const signed = o.signedCertificateEmbeddedSct ?? o.signedCertificateDetachedSct;
  const certs = signed?.chain?.certificates;
  if (!Array.isArray(certs) || certs.length === 0) return 'no chain.certificates';
  const out: string[] = [];
  for (const c of certs) {
    if (typeof c !== 'string') return 'a certificate is not a string';
    const found = c.match(PEM_CERT);
    if (!found || found.length !== 1) return 'a chain entry is not one PEM certificate';
    out.push(found[0]);
  }
  return out;
}
