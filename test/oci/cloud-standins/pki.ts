// Test PKI for the loopback stand-ins of cloud services that cannot run here (ECR, Google, Entra/ACR): a throwaway
// CA, one TLS server certificate for the cloud host names the tests alias to 127.0.0.1, and self-signed signing
// certificates (the ACR token service's JWT key, whose certificate goes into docker-registry's `rootcertbundle`).
// Made with the openssl CLI (Node has no X.509 writer), into a temp dir the caller removes; valid for two days.
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message ?? String(err)).trim().split('\n')[0]}`);
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export interface TestPki {
  dir: string;
  /** the CA certificate (PEM file): NODE_EXTRA_CA_CERTS of a child that must trust the stand-ins */
  caFile: string;
  caPem: string;
  /** a serverAuth certificate for `names` (DNS) and 127.0.0.1 / localhost (IP, DNS), issued by the CA */
  serverCertFile: string;
  serverKeyFile: string;
  serverCertPem: string;
  serverKeyPem: string;
}

/** Writes `ca.crt`, `server.crt`, `server.key` into `dir`; the server certificate names every host in `names`. */
export async function createTestPki(dir: string, names: string[]): Promise<TestPki> {
  const p = (f: string) => join(dir, f);
  await openssl([
    'req',
    '-x509',
    ...EC,
    '-days',
    '2',
    '-subj',
    '/CN=chainsmith test cloud CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
  ]);
  await openssl([
    'req',
    ...EC,
    '-subj',
    '/CN=chainsmith test cloud host',
    '-keyout',
    p('server.key'),
    '-out',
    p('server.csr'),
  ]);
  const san = [...new Set([...names, 'localhost'])].map((n) => `DNS:${n}`).concat('IP:127.0.0.1');
  await writeFile(
    p('server.ext'),
    `subjectAltName=${san.join(',')}\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n`,
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    p('server.ext'),
    '-out',
    p('server.crt'),
  ]);
  return {
    dir,
    caFile: p('ca.crt'),
    caPem: await readFile(p('ca.crt'), 'utf8'),
    serverCertFile: p('server.crt'),
    serverKeyFile: p('server.key'),
    serverCertPem: await readFile(p('server.crt'), 'utf8'),
    serverKeyPem: await readFile(p('server.key'), 'utf8'),
  };
}

export interface SigningCert {
  /** PEM file of the self-signed certificate (e.g. docker-registry's `auth.token.rootcertbundle`) */
  certFile: string;
  certPem: string;
  /** the certificate, DER: a JWT's `x5c[0]` is its base64 */
  certDer: Buffer;
  /** the P-256 private key (ES256) */
  key: KeyObject;
}

/** A self-signed P-256 certificate `<name>.crt` (+ `<name>.key`) in `dir`, for signing JWTs with ES256. */
export async function createSigningCert(dir: string, name: string): Promise<SigningCert> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await openssl(['req', '-x509', ...EC, '-days', '2', '-subj', `/CN=${name}`, '-keyout', keyFile, '-out', certFile]);
  const certPem = await readFile(certFile, 'utf8');
  return {
    certFile,
    certPem,
    certDer: new X509Certificate(certPem).raw,
    key: createPrivateKey(await readFile(keyFile, 'utf8')),
  };
}
