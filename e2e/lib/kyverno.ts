// The Kyverno CLI as an admission verifier without a cluster: `kyverno apply POLICY --resource POD --registry` runs
// the real image verification (ClusterPolicy verifyImages, ImageValidatingPolicy) against the stack's registries, and
// its policy report says whether the Pod would be admitted and, when not, Kyverno's message. Also: the copyable
// policies of docs/policies/kyverno/ with their placeholders replaced, so what the e2e tests is what users copy.
import { execFile } from 'node:child_process';
import { X509Certificate, createHash, createPublicKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT, stackEnv } from './env.js';

/** The folder of the policies users copy. */
export const KYVERNO_POLICIES = join(REPO_ROOT, 'docs', 'policies', 'kyverno');

/** One result of Kyverno's policy report. */
export interface KyvernoResult {
  policy: string;
  rule: string;
  result: 'pass' | 'fail' | 'warn' | 'error' | 'skip';
  message: string;
}

/** What `kyverno apply` said about one Pod. */
export interface KyvernoVerdict {
  /** Every result passed (and there was at least one): the Pod would be admitted. */
  admitted: boolean;
  results: KyvernoResult[];
  /** The messages of the results that did not pass, in order. */
  messages: string[];
  exitCode: number;
  /** stdout and stderr, for assertion messages. */
  output: string;
}

export interface KyvernoApplyOptions {
  /** Kill the CLI after this long (default 90 s); a timeout throws. */
  timeoutMs?: number;
  /** Extra environment for the CLI. */
  env?: Record<string, string>;
}

/** Path of the Kyverno CLI ($KYVERNO); throws saying how to get it when it is not there. */
export function kyvernoBinary(): string {
  const bin = process.env.KYVERNO ?? stackEnv().vars.KYVERNO;
  if (!bin)
    throw new Error(
      'KYVERNO is not set: the verifiers add-on is not up (e2e/stack/addons/verifiers-up.sh, part of `npm run stack:up`)',
    );
  if (!existsSync(bin))
    throw new Error(
      `KYVERNO=${bin} does not exist: the Kyverno CLI is not built yet (e2e/stack/addons/verifiers-up.sh builds it)`,
    );
  return bin;
}

/** A Pod named `name` running `images` (one container each), as a Pod admission would see it. */
export function podYaml(name: string, images: string[]): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) },
  });
}

/**
 * Applies `policyYaml` to a Pod running `images` with `kyverno apply --registry` (registry access, as the admission
 * controller has it) and returns Kyverno's verdict. A CLI that prints no policy report (an invalid policy, a crash)
 * or that times out throws, so an error can never pass for a denial.
 */
export async function kyvernoApply(
  policyYaml: string,
  images: string[],
  opts: KyvernoApplyOptions = {},
): Promise<KyvernoVerdict> {
  const bin = kyvernoBinary();
  const dir = await mkdtemp(join(tmpdir(), 'kyverno-'));
  try {
    await writeFile(join(dir, 'policy.yaml'), policyYaml);
    await writeFile(join(dir, 'pod.yaml'), podYaml('app', images));
    const args = ['apply', 'policy.yaml', '--resource', 'pod.yaml', '--registry', '--remove-color'];
    args.push('--policy-report', '--output-format', 'json');
    // HOME in the scratch dir: Sigstore's TUF cache (~/.sigstore) and registry credentials start empty every time.
    const env = { ...process.env, HOME: dir, ...opts.env };
    const { code, stdout, stderr } = await run(bin, args, dir, env, opts.timeoutMs ?? 90_000);
    const output = `${stdout}${stderr}`;
    const report = stdout.split('\n').find((l) => l.startsWith('{') && l.includes('"results"'));
    if (report === undefined)
      throw new Error(`kyverno apply printed no policy report (exit ${code}):\n${output.slice(-4000)}`);
    const parsed = JSON.parse(report) as { results?: KyvernoResult[] };
    const results = (parsed.results ?? []).map((r) => ({
      policy: r.policy,
      rule: r.rule,
      result: r.result,
      message: r.message ?? '',
    }));
    const admitted = results.length > 0 && results.every((r) => r.result === 'pass');
    const messages = results.filter((r) => r.result !== 'pass').map((r) => r.message);
    return { admitted, results, messages, exitCode: code, output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        const why = err.killed ? `timed out after ${timeoutMs} ms` : err.message;
        reject(new Error(`kyverno ${args.join(' ')}: ${why}\n${stdout}${stderr}`));
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** The values that replace a docs policy's placeholders (only those given are replaced). */
export interface PolicyValues {
  /** Replaces `registry.example.com` (e.g. `127.0.0.1:5000`). */
  registry: string;
  /** PEM replacing the `REPLACE-WITH-THE-CONTENTS-OF-cosign.pub` key. */
  publicKeyPem?: string;
  /** Replaces `https://tekton.dev/chains/v2`. */
  builderId?: string;
  /** Replaces `https://rekor.example.com`. */
  rekorUrl?: string;
  /** PEM replacing `REPLACE-WITH-THE-CONTENTS-OF-rekor.pub`. */
  rekorPublicKeyPem?: string;
  /** PEM replacing `REPLACE-WITH-THE-CONTENTS-OF-fulcio-root.pem`. */
  fulcioRootPem?: string;
  /** Replaces the ServiceAccount identity of the keyless policies. */
  identity?: string;
  /** Replaces `https://kubernetes.default.svc.cluster.local`. */
  issuer?: string;
  /** Replaces `https://tuf.example.com` and `REPLACE-WITH-BASE64-OF-root.json` (startTufMirror). */
  tuf?: { mirror: string; rootData: string };
}

const PLACEHOLDER_IDENTITY = 'https://kubernetes.io/namespaces/tekton-chains/serviceaccounts/tekton-chains-controller';
const PLACEHOLDER_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** A parsed policy document (the YAML object), for the few edits the policies' headers tell users to make. */
export type PolicyDocument = Record<string, unknown>;

/** Reads `docs/policies/kyverno/<file>` as a document. */
export function readDocsPolicy(file: string): PolicyDocument {
  return parse(readFileSync(join(KYVERNO_POLICIES, file), 'utf8')) as PolicyDocument;
}

/** `doc` with its placeholders replaced by `values`; throws if a placeholder it needs has no value. */
export function fillPolicy(doc: PolicyDocument, values: PolicyValues): string {
  const pems: [string, string | undefined][] = [
    ['REPLACE-WITH-THE-CONTENTS-OF-cosign.pub', values.publicKeyPem],
    ['REPLACE-WITH-THE-CONTENTS-OF-rekor.pub', values.rekorPublicKeyPem],
    ['REPLACE-WITH-THE-CONTENTS-OF-fulcio-root.pem', values.fulcioRootPem],
  ];
  const texts: [string, string | undefined][] = [
    ['registry.example.com', values.registry],
    ['https://tekton.dev/chains/v2', values.builderId],
    ['https://rekor.example.com', values.rekorUrl],
    [PLACEHOLDER_IDENTITY, values.identity],
    [PLACEHOLDER_ISSUER, values.issuer],
    ['https://tuf.example.com', values.tuf?.mirror],
    ['REPLACE-WITH-BASE64-OF-root.json', values.tuf?.rootData],
  ];
  const fill = (s: string): string => {
    for (const [placeholder, pem] of pems) {
      if (!s.includes(placeholder)) continue;
      if (pem === undefined) throw new Error(`policy needs a value for ${placeholder}`);
      return pem.trim();
    }
    for (const [placeholder, text] of texts) {
      if (!s.includes(placeholder)) continue;
      if (text === undefined) throw new Error(`policy needs a value for ${placeholder}`);
      s = s.split(placeholder).join(text);
    }
    return s;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fill(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return stringify(walk(doc), { lineWidth: 0 });
}

/**
 * A ClusterPolicy with every attestor entry (the image's and each attestation's) replaced by `entry`: what the SLSA
 * policies' headers say to do for Rekor or keyless signing.
 */
export function withClusterPolicyEntry(doc: PolicyDocument, entry: unknown): PolicyDocument {
  const copy = structuredClone(doc) as { spec: { rules: { verifyImages?: VerifyImages[] }[] } };
  for (const rule of copy.spec.rules)
    for (const vi of rule.verifyImages ?? []) {
      for (const a of vi.attestors ?? []) a.entries = [structuredClone(entry)];
      for (const att of vi.attestations ?? [])
        for (const a of att.attestors ?? []) a.entries = [structuredClone(entry)];
    }
  return copy as unknown as PolicyDocument;
}

/** The first attestor entry of a ClusterPolicy (e.g. the `keyless` entry of the keyless policy). */
export function clusterPolicyEntry(doc: PolicyDocument): unknown {
  const spec = (doc as { spec: { rules: { verifyImages?: VerifyImages[] }[] } }).spec;
  const entry = spec.rules[0]?.verifyImages?.[0]?.attestors?.[0]?.entries?.[0];
  if (entry === undefined) throw new Error('the policy has no attestor entry');
  return entry;
}

/** An ImageValidatingPolicy with its `attestors` replaced by `attestors` (of another docs policy). */
export function withImageValidatingAttestors(doc: PolicyDocument, attestors: unknown): PolicyDocument {
  const copy = structuredClone(doc) as { spec: Record<string, unknown> };
  copy.spec.attestors = structuredClone(attestors);
  return copy as unknown as PolicyDocument;
}

interface VerifyImages {
  attestors?: { entries?: unknown[] }[];
  attestations?: { attestors?: { entries?: unknown[] }[] }[];
}

/** A private Sigstore's trust root served as a TUF repository, as Kyverno's ImageValidatingPolicy wants it. */
export interface TufMirror {
  /** Base URL for the policy's `tuf.mirror`. */
  mirror: string;
  /** base64 of the initial root.json, for the policy's `tuf.root.data`. */
  rootData: string;
  close(): Promise<void>;
}

export interface SigstoreServices {
  rekorUrl: string;
  rekorPublicKeyPem: string;
  fulcioUrl: string;
  fulcioRootPem: string;
}

/**
 * Serves a one-key TUF repository (spec 1.0, consistent snapshots) on loopback whose only target is a
 * `trusted_root.json` naming the stack's Rekor and Fulcio. An ImageValidatingPolicy with a Rekor or keyless attestor
 * initialises Sigstore's TUF client before anything else (Kyverno v1.19.1, even with `rekorPubKey` and `roots` set),
 * so offline it needs a mirror: this is the one a private Sigstore deployment would run. The stack has no CT log;
 * the trusted root lists a throwaway CT key only because Kyverno refuses a root without one, and the policies say
 * `insecureIgnoreSCT`.
 */
export async function startTufMirror(services: SigstoreServices): Promise<TufMirror> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  const key = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw.toString('hex') } };
  const keyid = sha256Hex(Buffer.from(canonicalJson(key)));
  const expires = new Date(Date.now() + 7 * 24 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const sign = (signed: Record<string, unknown>): Buffer => {
    const sig = cryptoSign(null, Buffer.from(canonicalJson(signed)), privateKey).toString('hex');
    return Buffer.from(JSON.stringify({ signed, signatures: [{ keyid, sig }] }));
  };
  const role = { keyids: [keyid], threshold: 1 };
  const common = { spec_version: '1.0.31', version: 1, expires };
  const root = sign({
    _type: 'root',
    ...common,
    consistent_snapshot: true,
    keys: { [keyid]: key },
    roles: { root: role, targets: role, snapshot: role, timestamp: role },
  });
  const trustedRoot = Buffer.from(JSON.stringify(trustedRootJson(services)));
  const trHash = sha256Hex(trustedRoot);
  const targets = sign({
    _type: 'targets',
    ...common,
    targets: { 'trusted_root.json': { length: trustedRoot.length, hashes: { sha256: trHash } } },
  });
  const fileMeta = (b: Buffer) => ({ version: 1, length: b.length, hashes: { sha256: sha256Hex(b) } });
  const snapshot = sign({ _type: 'snapshot', ...common, meta: { 'targets.json': fileMeta(targets) } });
  const timestamp = sign({ _type: 'timestamp', ...common, meta: { 'snapshot.json': fileMeta(snapshot) } });
  const files = new Map<string, Buffer>([
    ['/root.json', root],
    ['/1.root.json', root],
    ['/timestamp.json', timestamp],
    ['/snapshot.json', snapshot],
    ['/1.snapshot.json', snapshot],
    ['/targets.json', targets],
    ['/1.targets.json', targets],
    ['/targets/trusted_root.json', trustedRoot],
    [`/targets/${trHash}.trusted_root.json`, trustedRoot],
  ]);
  const server = createServer((req, res) => {
    const body = files.get((req.url ?? '/').split('?')[0]!);
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    mirror: `http://127.0.0.1:${port}`,
    rootData: root.toString('base64'),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A sigstore `TrustedRoot` (protobuf-specs JSON) of one Rekor, one Fulcio and a placeholder CT log. */
function trustedRootJson(s: SigstoreServices): Record<string, unknown> {
  const since = { start: '2020-01-01T00:00:00Z' };
  const log = (baseUrl: string, der: Buffer) => ({
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: der.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: since },
    logId: { keyId: createHash('sha256').update(der).digest('base64') },
  });
  const rekorDer = createPublicKey(s.rekorPublicKeyPem).export({ type: 'spki', format: 'der' });
  const ctDer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const certs = s.fulcioRootPem
    .split('-----END CERTIFICATE-----')
    .filter((c) => c.includes('-----BEGIN CERTIFICATE-----'))
    .map((c) => ({ rawBytes: new X509Certificate(`${c.trim()}\n-----END CERTIFICATE-----\n`).raw.toString('base64') }));
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [log(s.rekorUrl, rekorDer)],
    certificateAuthorities: [
      {
        subject: { organization: 'chainsmith-stack', commonName: 'fulcio' },
        uri: s.fulcioUrl,
        certChain: { certificates: certs },
        validFor: since,
      },
    ],
    ctlogs: [log('http://127.0.0.1:1', ctDer)],
    timestampAuthorities: [],
  };
}

/** TUF's canonical JSON (sorted keys, no whitespace); enough for ASCII metadata with integer numbers. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
