// The test stack's coordinates, from the environment (`. .stack/env`) or, when a test is run
// without sourcing it, straight from the .stack/env file that `npm run stack:up` wrote.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in e2e/lib/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface StackEnv {
  /** Admin kubeconfig of the stack's kube-apiserver. */
  kubeconfig: string;
  /** host:port of the plain-http OCI registry, e.g. 127.0.0.1:40123. */
  registry: string;
  /** Path of the cosign v2 CLI. */
  cosign: string;
  /** The stack's state directory (.stack). */
  stackDir: string;
  /** Path of kubectl. */
  kubectl: string;
  /** The Rekor v1 add-on (e2e/stack/addons/rekor-up.sh) when it is up; `rekorEnv()` says why when it is not. */
  rekor?: RekorEnv;
  /** Every variable .stack/env exports, add-ons' included. */
  vars: Record<string, string>;
}

/** The stack's Rekor v1 transparency log. */
export interface RekorEnv {
  /** Base URL of rekor-server, e.g. http://127.0.0.1:40125 (REKOR_URL). */
  url: string;
  /** Path of its public key PEM, as served at /api/v1/log/publicKey (REKOR_PUBLIC_KEY). */
  publicKey: string;
  /** Path of rekor-cli of the same release (REKOR_CLI). */
  cli: string;
}

/** Parses the `export NAME=value` lines up.sh writes (values quoted with bash's printf %q). */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2]!;
    if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) value = value.slice(1, -1);
    else if (value.startsWith("$'")) value = value.slice(2, -1).replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    else value = value.replace(/\\(.)/g, '$1');
    vars[m[1]!] = value;
  }
  return vars;
}

/** Reads the stack's environment; throws a one-line error telling how to start the stack. */
export function stackEnv(): StackEnv {
  const stackDir = process.env.STACK_DIR ?? join(REPO_ROOT, '.stack');
  const file = join(stackDir, 'env');
  const fromFile = existsSync(file) ? parseEnvFile(readFileSync(file, 'utf8')) : {};
  const vars: Record<string, string> = { ...fromFile };
  for (const k of Object.keys(fromFile)) {
    const v = process.env[k];
    if (v !== undefined) vars[k] = v;
  }
  const get = (k: string): string => {
    const v = process.env[k] ?? vars[k];
    if (!v)
      throw new Error(`test stack not up: ${k} is not set and ${file} does not define it (run \`npm run stack:up\`)`);
    return v;
  };
  return {
    kubeconfig: get('KUBECONFIG'),
    registry: get('CHAINSMITH_REGISTRY'),
    cosign: get('COSIGN'),
    stackDir: vars.STACK_DIR ?? stackDir,
    kubectl: get('KUBECTL'),
    rekor: rekorFrom(vars),
    vars,
  };
}

function rekorFrom(vars: Record<string, string>): RekorEnv | undefined {
  const url = process.env.REKOR_URL ?? vars.REKOR_URL;
  const publicKey = process.env.REKOR_PUBLIC_KEY ?? vars.REKOR_PUBLIC_KEY;
  const cli = process.env.REKOR_CLI ?? vars.REKOR_CLI;
  return url && publicKey && cli ? { url, publicKey, cli } : undefined;
}

/**
 * The stack's Rekor; throws the reason the add-on recorded when it could not start one, or how to get one when the
 * stack was started without it.
 */
export function rekorEnv(): RekorEnv {
  const env = stackEnv();
  const unavailable = process.env.CHAINSMITH_REKOR_UNAVAILABLE ?? env.vars.CHAINSMITH_REKOR_UNAVAILABLE;
  if (unavailable) throw new Error(`the rekor stack add-on could not start Rekor: ${unavailable}`);
  if (!env.rekor)
    throw new Error(
      'REKOR_URL is not in the stack environment: the rekor add-on (e2e/stack/addons/rekor-up.sh) did not run; restart the stack (npm run stack:down && npm run stack:up)',
    );
  return env.rekor;
}

/** The stack's Fulcio (e2e/stack/addons/fulcio-up.sh), trusting the stack's kube-apiserver as its OIDC issuer. */
export interface FulcioEnv {
  /** Base URL of Fulcio's HTTP API, e.g. http://127.0.0.1:40127 (FULCIO_URL). */
  url: string;
  /** Path of the CA chain PEM Fulcio serves at /api/v1/rootCert, with a trailing newline (FULCIO_ROOT). */
  root: string;
  /** The issuer Fulcio trusts: the kube-apiserver's ServiceAccount token issuer, `https://127.0.0.1:<port>` (OIDC_ISSUER). */
  issuer: string;
}

/**
 * The stack's Fulcio; throws the reason the add-on recorded when it could not start one, or how to get one when the
 * stack was started without it.
 */
export function fulcioEnv(): FulcioEnv {
  const env = stackEnv();
  const v = (k: string): string | undefined => process.env[k] ?? env.vars[k];
  const unavailable = v('CHAINSMITH_FULCIO_UNAVAILABLE');
  if (unavailable) throw new Error(`the fulcio stack add-on could not start Fulcio: ${unavailable}`);
  const url = v('FULCIO_URL');
  const root = v('FULCIO_ROOT');
  const issuer = v('OIDC_ISSUER');
  if (!url || !root || !issuer)
    throw new Error(
      'FULCIO_URL, FULCIO_ROOT or OIDC_ISSUER is not in the stack environment: the fulcio add-on (e2e/stack/addons/fulcio-up.sh) did not run; restart the stack (npm run stack:down && npm run stack:up)',
    );
  return { url, root, issuer };
}

/** The verifiers add-on (e2e/stack/addons/verifiers-up.sh): olareg with the referrers API, cosign v3, Kyverno. */
export interface VerifiersEnv {
  /** host:port of olareg, a registry with the OCI 1.1 referrers API (REFERRERS_REGISTRY) */
  referrersRegistry: string;
  /** path of the cosign v3 CLI (COSIGN3) */
  cosign3: string;
  /** path of the Kyverno CLI (KYVERNO); built in the background, so it may not exist yet */
  kyverno: string;
}

/** The verifiers add-on's coordinates; throws the reason it recorded when it could not start. */
export function verifiersEnv(): VerifiersEnv {
  const env = stackEnv();
  const v = (k: string): string | undefined => process.env[k] ?? env.vars[k];
  const unavailable = v('CHAINSMITH_VERIFIERS_UNAVAILABLE');
  if (unavailable) throw new Error(`the verifiers stack add-on could not start: ${unavailable}`);
  const referrersRegistry = v('REFERRERS_REGISTRY');
  const cosign3 = v('COSIGN3');
  const kyverno = v('KYVERNO');
  if (!referrersRegistry || !cosign3 || !kyverno)
    throw new Error(
      'REFERRERS_REGISTRY, COSIGN3 or KYVERNO is not in the stack environment: the verifiers add-on (e2e/stack/addons/verifiers-up.sh) did not run; restart the stack (npm run stack:down && npm run stack:up)',
    );
  return { referrersRegistry, cosign3, kyverno };
}

/**
 * The sigstore2 add-on (e2e/stack/addons/sigstore2-up.sh): Rekor v2, a timestamp authority, and the trusted root and
 * signing config that list them next to the stack's Fulcio and Rekor v1 (for cosign v3 and sigstore-js).
 */
export interface Sigstore2Env {
  /** Base URL of Rekor v2 (rekor-tiles), e.g. http://127.0.0.1:40129; entries: POST /api/v2/log/entries (REKOR_V2_URL). */
  rekorV2Url: string;
  /** Path of Rekor v2's ed25519 checkpoint key, PEM (REKOR_V2_PUBLIC_KEY). */
  rekorV2PublicKey: string;
  /** The origin (first line) of Rekor v2's checkpoints: `127.0.0.1`, the host of rekorV2Url (REKOR_V2_ORIGIN). */
  rekorV2Origin: string;
  /** Base URL of Rekor v2's read path, static files: /checkpoint, /tile/… (REKOR_V2_READ_URL). */
  rekorV2ReadUrl: string;
  /** The RFC 3161 endpoint, http://127.0.0.1:<port>/api/v1/timestamp; its chain at `${tsaUrl}/certchain` (TSA_URL). */
  tsaUrl: string;
  /** Path of the TSA's certificate chain, PEM, the timestamping leaf first and the root last (TSA_CHAIN). */
  tsaChain: string;
  /** Path of trusted_root.json: Fulcio, Rekor v1, Rekor v2, the TSA; no CT log (SIGSTORE_TRUSTED_ROOT). */
  trustedRoot: string;
  /** Path of signing_config.json (v0.2): Fulcio, Rekor v2 and v1, the TSA (SIGSTORE_SIGNING_CONFIG). */
  signingConfig: string;
}

/** The sigstore2 add-on's coordinates; throws the reason it recorded when it could not start. */
export function sigstore2Env(): Sigstore2Env {
  const env = stackEnv();
  const v = (k: string): string | undefined => process.env[k] ?? env.vars[k];
  const unavailable = v('CHAINSMITH_SIGSTORE2_UNAVAILABLE');
  if (unavailable) throw new Error(`the sigstore2 stack add-on could not start Rekor v2 and the TSA: ${unavailable}`);
  const names = [
    'REKOR_V2_URL',
    'REKOR_V2_PUBLIC_KEY',
    'REKOR_V2_ORIGIN',
    'REKOR_V2_READ_URL',
    'TSA_URL',
    'TSA_CHAIN',
    'SIGSTORE_TRUSTED_ROOT',
    'SIGSTORE_SIGNING_CONFIG',
  ];
  const missing = names.filter((k) => !v(k));
  if (missing.length > 0)
    throw new Error(
      `${missing.join(', ')} not in the stack environment: the sigstore2 add-on (e2e/stack/addons/sigstore2-up.sh) did not run; run \`npm run stack:up\` (it starts add-ons added since the stack started)`,
    );
  return {
    rekorV2Url: v('REKOR_V2_URL')!,
    rekorV2PublicKey: v('REKOR_V2_PUBLIC_KEY')!,
    rekorV2Origin: v('REKOR_V2_ORIGIN')!,
    rekorV2ReadUrl: v('REKOR_V2_READ_URL')!,
    tsaUrl: v('TSA_URL')!,
    tsaChain: v('TSA_CHAIN')!,
    trustedRoot: v('SIGSTORE_TRUSTED_ROOT')!,
    signingConfig: v('SIGSTORE_SIGNING_CONFIG')!,
  };
}

/** The vault add-on (e2e/stack/addons/vault-up.sh): its address, root token and ECDSA P-256 transit key. */
export interface VaultEnv {
  addr: string;
  token: string;
  key: string;
}

/** The vault add-on's coordinates; throws the reason it recorded when it could not start. */
export function vaultEnv(): VaultEnv {
  const vars = stackEnv().vars;
  const v = (k: string) => process.env[k] ?? vars[k];
  const unavailable = v('CHAINSMITH_VAULT_UNAVAILABLE');
  if (unavailable) throw new Error(`the vault stack add-on could not start Vault: ${unavailable}`);
  const addr = v('VAULT_ADDR');
  const token = v('VAULT_TOKEN');
  if (!addr || !token)
    throw new Error(
      'VAULT_ADDR is not in the stack environment: restart the stack so e2e/stack/addons/vault-up.sh runs',
    );
  return { addr, token, key: v('CHAINSMITH_VAULT_KEY') ?? 'chainsmith-ecdsa-p256' };
}

/** The PEM public key of the newest version of the transit key, as Vault reports it. */
export async function vaultPublicKey(vault: VaultEnv): Promise<string> {
  const res = await fetch(`${vault.addr}/v1/transit/keys/${vault.key}`, { headers: { 'x-vault-token': vault.token } });
  if (!res.ok) throw new Error(`vault: GET transit/keys/${vault.key}: HTTP ${res.status}`);
  const { data } = (await res.json()) as {
    data: { latest_version: number; keys: Record<string, { public_key: string }> };
  };
  return data.keys[String(data.latest_version)]!.public_key;
}

/**
 * The storage add-on (e2e/stack/addons/storage-up.sh): real servers for Tekton Chains' other storage backends, each on
 * a loopback port: fake-gcs-server (gcs), FerretDB (docdb, MongoDB wire protocol), kfake (kafka), Archivista.
 */
export interface StorageEnv {
  /** host:port of fake-gcs-server, plain http (GCS_EMULATOR_HOST; Chains' variable is STORAGE_EMULATOR_HOST). */
  gcsEmulatorHost: string;
  /** http://<GCS_EMULATOR_HOST>, the base of its JSON API (/storage/v1/…) and uploads (/upload/storage/v1/…) (GCS_URL). */
  gcsUrl: string;
  /** mongodb://127.0.0.1:<port>/ of FerretDB on SQLite, accepting dotted field names (MONGO_URL). */
  mongoUrl: string;
  /** host:port of the kfake broker (KAFKA_BROKERS). */
  kafkaBrokers: string;
  /** The topic seeded at start; others are created on first use (KAFKA_TOPIC). */
  kafkaTopic: string;
  /** Base URL of Archivista: POST /upload, GET /download/<gitoid>, POST /query (GraphQL) (ARCHIVISTA_URL). */
  archivistaUrl: string;
}

/** The storage add-on's coordinates; throws the reason it recorded when it could not start. */
export function storageEnv(): StorageEnv {
  const env = stackEnv();
  const v = (k: string): string | undefined => process.env[k] ?? env.vars[k];
  const unavailable = v('CHAINSMITH_STORAGE_UNAVAILABLE');
  if (unavailable) throw new Error(`the storage stack add-on could not start its servers: ${unavailable}`);
  const names = ['GCS_EMULATOR_HOST', 'GCS_URL', 'MONGO_URL', 'KAFKA_BROKERS', 'KAFKA_TOPIC', 'ARCHIVISTA_URL'];
  const missing = names.filter((k) => !v(k));
  if (missing.length > 0)
    throw new Error(
      `${missing.join(', ')} not in the stack environment: the storage add-on (e2e/stack/addons/storage-up.sh) did not run; run \`npm run stack:up\` (it starts add-ons added since the stack started)`,
    );
  return {
    gcsEmulatorHost: v('GCS_EMULATOR_HOST')!,
    gcsUrl: v('GCS_URL')!,
    mongoUrl: v('MONGO_URL')!,
    kafkaBrokers: v('KAFKA_BROKERS')!,
    kafkaTopic: v('KAFKA_TOPIC')!,
    archivistaUrl: v('ARCHIVISTA_URL')!,
  };
}
