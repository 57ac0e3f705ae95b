// Test certificates shaped like Fulcio's: a root CA, an intermediate and short-lived ECDSA P-256 leaves with a URI
// SAN, the code-signing EKU and Fulcio's OIDC issuer extensions (1.3.6.1.4.1.57264.1.8 as a DER UTF8String, .1.1 as
// the raw string). node-forge only signs certificates with RSA, so its ASN.1 encoder builds the DER and node:crypto
// signs the TBSCertificate with ECDSA.
import { generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

export const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
export const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

/** A certificate and its private key. */
export interface TestCert {
  cert: X509Certificate;
  pem: string;
  key: KeyObject;
}

/** What a test certificate holds. */
export interface CertOptions {
  subject: string;
  /** the issuer; omitted: self-signed */
  issuer?: TestCert;
  notBefore: Date;
  notAfter: Date;
  ca?: boolean;
  pathLen?: number;
  /** extended key usages; default: code signing for leaves, none for CAs */
  eku?: string[];
  /** URI SAN */
  uri?: string;
  /** email SAN */
  email?: string;
  /** OIDC issuer in the v2 extension (DER UTF8String) */
  issuerV2?: string;
  /** OIDC issuer in the legacy extension (raw bytes) */
  issuerV1?: string;
  /** the key to certify (default: a fresh P-256 key) */
  keyPair?: { privateKey: KeyObject; publicKey: KeyObject };
}

const seq = (...items: forge.asn1.Asn1[]): forge.asn1.Asn1 => asn1.create(U, T.SEQUENCE, true, items);
const oid = (id: string): forge.asn1.Asn1 => asn1.create(U, T.OID, false, asn1.oidToDer(id).getBytes());
const der = (o: forge.asn1.Asn1): string => asn1.toDer(o).getBytes();
const octets = (bytes: string): forge.asn1.Asn1 => asn1.create(U, T.OCTETSTRING, false, bytes);

function name(cn: string): forge.asn1.Asn1 {
  if (cn === '') return seq(); // Fulcio's leaves have an empty subject
  const atv = seq(oid('2.5.4.3'), asn1.create(U, T.UTF8, false, forge.util.encodeUtf8(cn)));
  return seq(asn1.create(U, T.SET, true, [atv]));
}

function extension(id: string, value: forge.asn1.Asn1 | string, critical = false): forge.asn1.Asn1 {
  const parts = [oid(id)];
  if (critical) parts.push(asn1.create(U, T.BOOLEAN, false, String.fromCharCode(0xff)));
  parts.push(octets(typeof value === 'string' ? value : der(value)));
  return seq(...parts);
}

// KeyUsage bits: digitalSignature (0x80) for leaves, keyCertSign|cRLSign (0x06) for CAs
function keyUsage(ca: boolean): forge.asn1.Asn1 {
  const bits = ca ? 0x06 : 0x80;
  const unused = ca ? 1 : 7;
  return asn1.create(U, T.BITSTRING, false, String.fromCharCode(unused, bits));
}

let serial = 1;

/** Builds and signs one certificate. */
export function makeCert(o: CertOptions): TestCert {
  const pair = o.keyPair ?? generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = asn1.fromDer(pair.publicKey.export({ type: 'spki', format: 'der' }).toString('binary'));
  const ca = o.ca ?? false;
  const exts: forge.asn1.Asn1[] = [];
  const bc: forge.asn1.Asn1[] = ca ? [asn1.create(U, T.BOOLEAN, false, String.fromCharCode(0xff))] : [];
  if (ca && o.pathLen !== undefined) bc.push(asn1.create(U, T.INTEGER, false, String.fromCharCode(o.pathLen)));
  exts.push(extension('2.5.29.19', seq(...bc), true));
  exts.push(extension('2.5.29.15', keyUsage(ca), true));
  const eku = o.eku ?? (ca ? [] : [EKU_CODE_SIGNING]);
  if (eku.length > 0) exts.push(extension('2.5.29.37', seq(...eku.map(oid))));
  const names: forge.asn1.Asn1[] = [];
  if (o.email) names.push(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 1, false, o.email));
  if (o.uri) names.push(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 6, false, o.uri));
  if (names.length > 0) exts.push(extension('2.5.29.17', seq(...names), true));
  if (o.issuerV1 !== undefined) exts.push(extension(OID_ISSUER_V1, forge.util.encodeUtf8(o.issuerV1)));
  if (o.issuerV2 !== undefined)
    exts.push(extension(OID_ISSUER_V2, asn1.create(U, T.UTF8, false, forge.util.encodeUtf8(o.issuerV2))));
  const sigAlg = seq(oid('1.2.840.10045.4.3.2'));
  const tbs = seq(
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [asn1.create(U, T.INTEGER, false, String.fromCharCode(2))]),
    asn1.create(U, T.INTEGER, false, String.fromCharCode(0x01, serial++ & 0x7f, 0x42)),
    sigAlg,
    name(o.issuer ? o.issuer.cert.subject.replace(/^CN=/, '') : o.subject),
    seq(
      asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(o.notBefore)),
      asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(o.notAfter)),
    ),
    name(o.subject),
    spki,
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [seq(...exts)]),
  );
  const tbsDer = Buffer.from(der(tbs), 'binary');
  const signature = sign('sha256', tbsDer, o.issuer?.key ?? pair.privateKey);
  const cert = seq(
    tbs,
    sigAlg,
    asn1.create(U, T.BITSTRING, false, String.fromCharCode(0) + signature.toString('binary')),
  );
  const bytes = Buffer.from(der(cert), 'binary');
  const x509 = new X509Certificate(bytes);
  return { cert: x509, pem: x509.toString(), key: pair.privateKey };
}

const MINUTE = 60_000;

/** A Fulcio-like hierarchy: root, intermediate, and a leaf factory for one identity and issuer. */
export interface TestFulcio {
  root: TestCert;
  intermediate: TestCert;
  /** a ten-minute leaf from `start`, for the ServiceAccount identity and issuer (override any option) */
  leaf(start: Date, opts?: Partial<CertOptions>): TestCert;
}

export const IDENTITY = 'https://kubernetes.io/namespaces/ci/serviceaccounts/builder';
export const ISSUER = 'https://127.0.0.1:6443';

/** A root (valid for years around `around`), an intermediate under it, and leaves under that. */
export function testFulcio(around: Date, rootName = 'sigstore'): TestFulcio {
  const from = new Date(around.getTime() - 365 * 24 * 60 * MINUTE);
  const to = new Date(around.getTime() + 365 * 24 * 60 * MINUTE);
  const root = makeCert({ subject: rootName, notBefore: from, notAfter: to, ca: true, pathLen: 1 });
  const intermediate = makeCert({
    subject: `${rootName}-intermediate`,
    issuer: root,
    notBefore: from,
    notAfter: to,
    ca: true,
    pathLen: 0,
    eku: [EKU_CODE_SIGNING],
  });
  return {
    root,
    intermediate,
    leaf: (start, opts = {}) =>
      makeCert({
        subject: '',
        issuer: intermediate,
        notBefore: start,
        notAfter: new Date(start.getTime() + 10 * MINUTE),
        uri: IDENTITY,
        issuerV2: ISSUER,
        issuerV1: ISSUER,
        ...opts,
      }),
  };
}
