// cosign's encrypted private key files (cosign-format.md §4.1): a PEM block whose body is a JSON document
// {kdf: scrypt, cipher: nacl/secretbox, ciphertext} wrapping the PKCS#8 DER of the key.
// The format comes from go-securesystemslib `encrypted/encrypted.go`; cosign reads and writes it unchanged.
import { createPrivateKey, createPublicKey, randomBytes, scrypt, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { ChainsmithError } from '../errors.js';

/** Written by cosign ≥ 1.x `generate-key-pair` and `import-key-pair`. */
export const SIGSTORE_KEY_LABEL = 'ENCRYPTED SIGSTORE PRIVATE KEY';
/** Written by older cosign releases; still accepted on load. */
export const COSIGN_KEY_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY';

/** scrypt's cost (N), block size (r) and parallelism (p), as go-securesystemslib names them. */
export type ScryptParams = { N: number; r: number; p: number };

/** What cosign writes today (go-securesystemslib ≥ v0.7). */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 65536, r: 8, p: 1 };

// go-securesystemslib refuses any other parameters (a guard against keys that make scrypt eat memory/CPU);
// we accept exactly the same set so a key that works with cosign works here and vice versa.
const ACCEPTED_SCRYPT_PARAMS: readonly ScryptParams[] = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
];

const KEY_BYTES = nacl.secretbox.keyLength; // 32
const SALT_BYTES = 32;

interface EncryptedKeyDocument {
  kdf: { name: string; params: ScryptParams; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

/**
 * Decrypts a cosign private key (either PEM label) with its password and returns the private key.
 * Wrong password → ChainsmithError('KeyDecryptFailed'); the password never appears in any message.
 */
export async function decryptCosignKey(pem: string | Buffer, password: string | Buffer): Promise<KeyObject> {
  const block = firstPemBlock(pem.toString());
  if (!block) {
    throw new ChainsmithError('KeyDecryptFailed', 'cosign.key: no PEM block found');
  }
  if (block.label !== SIGSTORE_KEY_LABEL && block.label !== COSIGN_KEY_LABEL) {
    throw new ChainsmithError(
      'KeyUnsupported',
      `cosign.key: unsupported PEM type "${block.label}" (expected ${SIGSTORE_KEY_LABEL} or ${COSIGN_KEY_LABEL})`,
    );
  }
  const doc = parseDocument(block.der);
  const params = doc.kdf.params;
  if (!ACCEPTED_SCRYPT_PARAMS.some((a) => a.N === params.N && a.r === params.r && a.p === params.p)) {
    throw new ChainsmithError(
      'KeyUnsupported',
      `cosign.key: unsupported scrypt parameters N=${params.N} r=${params.r} p=${params.p}`,
    );
  }
  const salt = Buffer.from(doc.kdf.salt, 'base64');
  const nonce = Buffer.from(doc.cipher.nonce, 'base64');
  const box = Buffer.from(doc.ciphertext, 'base64');
  if (nonce.length !== nacl.secretbox.nonceLength) {
    throw new ChainsmithError('KeyDecryptFailed', 'cosign.key: corrupt key (bad nonce length)');
  }
  const key = await deriveKey(toBuffer(password), salt, params);
  const plain = nacl.secretbox.open(box, nonce, key);
  key.fill(0);
  if (!plain) {
    throw new ChainsmithError('KeyDecryptFailed', 'cosign.key: wrong password or corrupt key');
  }
  const der = Buffer.from(plain);
  try {
    // cosign insists on PKCS#8 (x509.ParsePKCS8PrivateKey), so SEC1/PKCS#1 inside the box is rejected there too.
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new ChainsmithError('KeyUnsupported', 'cosign.key: decrypted key is not a PKCS#8 private key', {
      cause: err,
    });
  } finally {
    der.fill(0);
    plain.fill(0);
  }
}

/**
 * Encrypts a private key exactly as `cosign generate-key-pair` does (SIGSTORE label, scrypt N=65536,
 * random salt and nonce), so cosign can sign with keys we generate.
 */
export async function encryptCosignKey(
  privateKey: KeyObject,
  password: string | Buffer,
  opts: { params?: ScryptParams; label?: typeof SIGSTORE_KEY_LABEL | typeof COSIGN_KEY_LABEL } = {},
): Promise<string> {
  const params = opts.params ?? DEFAULT_SCRYPT_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(nacl.secretbox.nonceLength);
  const key = await deriveKey(toBuffer(password), salt, params);
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const box = nacl.secretbox(der, nonce, key);
  key.fill(0);
  der.fill(0);
  // Member order and base64 flavour follow Go's encoding/json of the securesystemslib structs.
  const doc: EncryptedKeyDocument = {
    kdf: { name: 'scrypt', params: { N: params.N, r: params.r, p: params.p }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(box).toString('base64'),
  };
  return toPem(opts.label ?? SIGSTORE_KEY_LABEL, Buffer.from(JSON.stringify(doc)));
}

/** The public key as cosign writes `cosign.pub`: a `PUBLIC KEY` PEM of the SPKI DER. */
export function exportPublicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'pem', type: 'spki' }).toString();
}

/** The first PEM block of a text: its label and decoded body. */
export function firstPemBlock(text: string): { label: string; der: Buffer } | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return undefined;
  const body = m[2]!
    .split(/\r?\n/)
    .filter((line) => !line.includes(':')) // skip RFC 1421 headers, as Go's pem.Decode does
    .join('');
  return { label: m[1]!, der: Buffer.from(body, 'base64') };
}

function parseDocument(body: Buffer): EncryptedKeyDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ChainsmithError('KeyDecryptFailed', 'cosign.key: corrupt key (body is not JSON)', { cause: err });
  }
  const d = doc as Partial<EncryptedKeyDocument> | null;
  if (
    !d ||
    typeof d !== 'object' ||
    typeof d.ciphertext !== 'string' ||
    typeof d.kdf?.salt !== 'string' ||
    typeof d.kdf.params !== 'object' ||
    typeof d.cipher?.nonce !== 'string'
  ) {
    throw new ChainsmithError('KeyDecryptFailed', 'cosign.key: corrupt key (missing kdf, cipher or ciphertext)');
  }
  if (d.kdf.name !== 'scrypt' || d.cipher.name !== 'nacl/secretbox') {
    throw new ChainsmithError(
      'KeyUnsupported',
      `cosign.key: unsupported encryption (kdf "${String(d.kdf.name)}", cipher "${String(d.cipher.name)}")`,
    );
  }
  return d as EncryptedKeyDocument;
}

function deriveKey(password: Buffer, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is below what N=32768 needs (128·N·r bytes); allow the largest accepted N.
  const maxmem = 128 * params.N * params.r * params.p + 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) => {
      if (err) reject(new ChainsmithError('KeyDecryptFailed', `cosign.key: key derivation failed: ${err.message}`));
      else resolve(key);
    });
  });
}

function toBuffer(password: string | Buffer): Buffer {
  return typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
}

function toPem(label: string, body: Buffer): string {
  const b64 = body.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
