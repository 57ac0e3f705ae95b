// The interop matrix's cosign and chainsmith-verify columns (issue 19): for each signer (file key, Vault KMS key,
// keyless) and encoding (.sig/.att tags; sigstore-bundle referrers), images signed by the real controller
// (e2e/interop/harness.ts) are verified by cosign v2.6.5, cosign v3.1.3 and `chainsmith verify` with the trust
// material a user has: the public key or the certificate identity, the stack's Fulcio root and Rekor key
// (SIGSTORE_* variables for tags, a `cosign trusted-root create` root for bundles), `--insecure-ignore-tlog` only
// for the key-only KMS scenario. Each verifier's result is recorded as a matrix cell right after the assertions that
// prove it, and every verifier must refuse a wrong key, another builder.id, an unsigned image and an edited layer.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, type ToolOutcome } from '../lib/cosign.js';
import { REPO_ROOT, stackEnv, verifiersEnv } from '../lib/env.js';
import {
  ENCODINGS,
  SIGNERS,
  recordCell,
  recordNegative,
  type Encoding,
  type Negative,
  type Output,
  type Payload,
  type SignerKind,
  type Verifier,
} from '../lib/interop.js';
import { closeRegistryConnections } from '../lib/registry.js';
import {
  closeScenarios,
  freshSignedImage,
  scenario,
  tamperAttestation,
  tamperSignature,
  type Scenario,
  type SignedImage,
} from './harness.js';

const FILE = 'e2e/interop/cosign.e2e.ts';
const COSIGN_SIGN = 'https://sigstore.dev/cosign/sign/v1';
const OTHER_BUILDER = 'https://chainsmith.dev/interop/someone-else';
type Provenance = Exclude<Payload, 'simplesigning'>;
type CosignVersion = 'cosign v2' | 'cosign v3';
const COSIGNS: CosignVersion[] = ['cosign v2', 'cosign v3'];
const PROVENANCE: Record<Provenance, { type: string; uri: string; image: 'slsa02' | 'slsa10' }> = {
  'SLSA v0.2': { type: 'slsaprovenance', uri: 'https://slsa.dev/provenance/v0.2', image: 'slsa02' },
  'SLSA v1.0': { type: 'slsaprovenance1', uri: 'https://slsa.dev/provenance/v1', image: 'slsa10' },
};
const SCENARIOS = ENCODINGS.flatMap((encoding) => SIGNERS.map((signer) => ({ signer, encoding })));

// At most this many verifier processes at once: the stack runs on two cores.
const run = limiter(6);

let policyDir: string;

/** A policy on the builder id, as a user writes one: CUE for SLSA v0.2, Rego (v0 syntax) for SLSA v1.0. */
async function builderPolicy(payload: Provenance, builderId: string): Promise<string> {
  const safe = builderId.replace(/[^a-z0-9]+/gi, '-');
  if (payload === 'SLSA v0.2') {
    const file = join(policyDir, `builder-${safe}.cue`);
    await writeFile(file, `predicateType: "${PROVENANCE[payload].uri}"\npredicate: builder: id: "${builderId}"\n`);
    return file;
  }
  const file = join(policyDir, `builder-v1-${safe}.rego`);
  await writeFile(
    file,
    [
      'package signature',
      '',
      'default allow = false',
      '',
      'allow {',
      `\tinput.predicateType == "${PROVENANCE[payload].uri}"`,
      `\tinput.predicate.runDetails.builder.id == "${builderId}"`,
      '}',
      '',
    ].join('\n'),
  );
  return file;
}

// ---- running the verifiers -----------------------------------------------------------------------------------

/** Whom to trust instead of the scenario's signer (the "wrong key" case). */
interface Pin {
  key?: string;
  identity?: string;
}

/**
 * cosign `args` against `s` with the scenario's trust material: `--key`, or the certificate identity and issuer (no
 * CT log: `--insecure-ignore-sct`); for tags the Fulcio root and Rekor key from SIGSTORE_ROOT_FILE and
 * SIGSTORE_REKOR_PUBLIC_KEY with `--rekor-url`, for bundles the same in `--trusted-root` (cosign wants one there);
 * key-only (KMS, no Rekor): `--insecure-ignore-tlog`.
 */
function cosign(version: CosignVersion, s: Scenario, args: string[], pin: Pin = {}): Promise<ToolOutcome> {
  const bin = version === 'cosign v2' ? stackEnv().cosign : verifiersEnv().cosign3;
  const t = s.trust;
  const flags: string[] = [];
  const env: Record<string, string> = {};
  if (t.identity) {
    flags.push('--certificate-identity', pin.identity ?? t.identity, '--certificate-oidc-issuer', t.issuer!);
    flags.push('--insecure-ignore-sct');
  } else flags.push('--key', pin.key ?? t.publicKeyFile!);
  if (s.encoding === 'referrers') flags.push('--trusted-root', t.trustedRootFile);
  else {
    if (t.fulcioRootFile) env.SIGSTORE_ROOT_FILE = t.fulcioRootFile;
    if (t.rekorPublicKeyFile) env.SIGSTORE_REKOR_PUBLIC_KEY = t.rekorPublicKeyFile;
    if (t.rekorUrl) flags.push('--rekor-url', t.rekorUrl);
  }
  if (!s.transparency) flags.push('--insecure-ignore-tlog');
  flags.push('--allow-http-registry');
  return run(() => runTool(bin, [...args, ...flags], env));
}

/** `chainsmith verify --json` of `ref` with the scenario's trust material; `extra` before the image. */
function chainsmithVerify(s: Scenario, ref: string, extra: string[] = [], pin: Pin = {}): Promise<ToolOutcome> {
  const t = s.trust;
  const flags: string[] = t.identity
    ? [
        '--certificate-identity',
        pin.identity ?? t.identity,
        '--certificate-oidc-issuer',
        t.issuer!,
        '--fulcio-root',
        t.fulcioRootFile!,
      ]
    : ['--key', pin.key ?? t.publicKeyFile!];
  if (t.rekorPublicKeyFile) flags.push('--rekor-public-key', t.rekorPublicKeyFile);
  const args = ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'verify', ...flags, ...extra, '--json', ref];
  return run(() => runTool(process.execPath, args));
}

interface Check {
  name: string;
  status: string;
  detail?: string;
}
interface ReportItem {
  source: string;
  authentic: boolean;
  predicateType?: string;
  checks: Check[];
}
interface Report {
  verified: boolean;
  links: Check[];
  signatures: ReportItem[];
  attestations: ReportItem[];
}

function report(out: ToolOutcome): Report {
  const start = out.out.indexOf('{');
  assert.ok(start >= 0, `chainsmith verify printed no JSON report:\n${out.out}`);
  return JSON.parse(out.out.slice(start, out.out.lastIndexOf('}') + 1)) as Report;
}

/** The payloads `cosign verify` printed (a JSON array on one line). */
function verifiedSignatures(out: string): Array<{ critical: { image: Record<string, string>; type: string } }> {
  const line = out.split('\n').find((l) => l.startsWith('[{'));
  assert.ok(line, `cosign printed no verified payloads:\n${out}`);
  return JSON.parse(line) as Array<{ critical: { image: Record<string, string>; type: string } }>;
}

interface Statement {
  predicateType: string;
  subject: Array<{ digest: Record<string, string> }>;
  predicate: { builder?: { id?: string }; runDetails?: { builder?: { id?: string } } };
}

/** The statements `cosign verify-attestation` printed (one DSSE envelope per line). */
function verifiedStatements(out: string): Statement[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"payloadType"'))
    .map((l) => {
      const envelope = JSON.parse(l) as { payload: string };
      return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Statement;
    });
}

const builderOf = (st: Statement) => st.predicate.builder?.id ?? st.predicate.runDetails?.builder?.id;
const hexOf = (digest: string) => digest.slice('sha256:'.length);

// ---- what each cell asserts ----------------------------------------------------------------------------------

/**
 * The ways a user runs `version` on `s`: as is (cosign v3 looks for bundle referrers first and falls back to the
 * tags when there are none; v2.6.5 does the same when it finds bundles), and for v3 on tags also with the tag
 * layout forced, as docs/verify.md shows.
 */
function invocations(version: CosignVersion, s: Scenario): string[][] {
  return version === 'cosign v3' && s.encoding === 'tags' ? [[], ['--new-bundle-format=false']] : [[]];
}

async function cosignAcceptsSignature(version: CosignVersion, s: Scenario, img: SignedImage): Promise<void> {
  for (const extra of invocations(version, s)) {
    const out = await cosign(version, s, ['verify', ...extra, img.ref]);
    assert.equal(out.code, 0, `${version} verify ${extra.join(' ')} ${img.ref}:\n${out.out}`);
    const signer = s.trust.identity ? /certificate was verified using trusted certificate authority/ : /public key/;
    assert.match(out.out, signer);
    if (s.transparency) assert.match(out.out, /Existence of the claims in the transparency log was verified/);
    // an attestation bundle satisfies `cosign verify` too (it has no predicateType filter): the image signature
    // itself must be among what was verified
    const type = s.encoding === 'tags' ? 'cosign container image signature' : COSIGN_SIGN;
    const sigs = verifiedSignatures(out.out);
    assert.ok(
      sigs.some((p) => p.critical.type === type && p.critical.image['docker-manifest-digest'] === img.digest),
      `${version} verified no "${type}" signature of ${img.digest}:\n${out.out}`,
    );
  }
}

async function cosignAcceptsProvenance(version: CosignVersion, s: Scenario, payload: Provenance): Promise<void> {
  const img = s[PROVENANCE[payload].image];
  const policy = await builderPolicy(payload, s.builderId);
  for (const extra of invocations(version, s)) {
    const args = ['verify-attestation', ...extra, '--type', PROVENANCE[payload].type, '--policy', policy, img.ref];
    const out = await cosign(version, s, args);
    assert.equal(out.code, 0, `${version} ${args.join(' ')}:\n${out.out}`);
    if (s.transparency) assert.match(out.out, /Existence of the claims in the transparency log was verified/);
    const statements = verifiedStatements(out.out).filter((st) => st.predicateType === PROVENANCE[payload].uri);
    assert.ok(statements.length > 0, `${version} printed no ${PROVENANCE[payload].uri} statement:\n${out.out}`);
    for (const st of statements) {
      assert.ok(
        st.subject.some((sub) => sub.digest.sha256 === hexOf(img.digest)),
        'the subject is the image',
      );
      assert.equal(builderOf(st), s.builderId);
    }
  }
}

function assertTlogPassed(s: Scenario, item: ReportItem): void {
  if (!s.transparency) return;
  const tlog = item.checks.find((c) => c.name === 'tlog');
  assert.equal(tlog?.status, 'passed', `tlog check of ${item.source}: ${JSON.stringify(item.checks)}`);
}

async function chainsmithAcceptsSignature(s: Scenario, img: SignedImage): Promise<void> {
  const out = await chainsmithVerify(s, img.ref);
  assert.equal(out.code, 0, `chainsmith verify ${img.ref}:\n${out.out}`);
  const r = report(out);
  assert.equal(r.verified, true);
  const sig = r.signatures.find((i) => i.authentic);
  assert.ok(sig, `no authentic signature:\n${out.out}`);
  if (s.encoding === 'referrers') assert.equal(sig.predicateType, COSIGN_SIGN);
  assertTlogPassed(s, sig);
}

async function chainsmithAcceptsProvenance(s: Scenario, payload: Provenance): Promise<void> {
  const img = s[PROVENANCE[payload].image];
  const extra = ['--predicate-type', PROVENANCE[payload].type, '--builder-id', s.builderId];
  const out = await chainsmithVerify(s, img.ref, extra);
  assert.equal(out.code, 0, `chainsmith verify ${extra.join(' ')} ${img.ref}:\n${out.out}`);
  const r = report(out);
  assert.equal(r.verified, true);
  const att = r.attestations.find((i) => i.authentic && i.predicateType === PROVENANCE[payload].uri);
  assert.ok(att, `no authentic ${PROVENANCE[payload].uri} attestation:\n${out.out}`);
  assert.equal(att.checks.find((c) => c.name === 'builder-id')?.status, 'passed');
  assertTlogPassed(s, att);
}

/**
 * Runs each verifier's check and records its cell: `pass` after the check's assertions held, `fail` (with the
 * first line of why) when the verifier ran and its answer did not hold up. Every verifier is tried and recorded
 * before the test fails.
 */
async function cells(t: TestContext, output: Output, checks: Array<[Verifier, () => Promise<void>]>): Promise<void> {
  const name = `${FILE} › ${t.name}`;
  const results = await Promise.allSettled(
    checks.map(async ([verifier, check]) => {
      try {
        await check();
      } catch (err) {
        if (err instanceof assert.AssertionError)
          recordCell(output, verifier, 'fail', name, firstLine(err.message.replace(/^.*?:\n/, '')));
        throw err;
      }
      recordCell(output, verifier, 'pass', name);
    }),
  );
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${checks[i]![0]}: ${errorText(r.reason)}`] : [],
  );
  assert.deepEqual(failed, [], failed.join('\n\n'));
}

/** One line of a verifier's complaint, for a matrix note: cosign's `Error:` line, chainsmith's first broken link. */
function firstLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim());
  const line =
    lines.find((l) => l.startsWith('Error: ')) ??
    lines.find((l) => /first broken link/.test(l)) ??
    lines.find((l) => /error|fail|invalid|no /i.test(l) && !l.startsWith('WARNING')) ??
    lines[0] ??
    '';
  return line.slice(0, 200);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---- negatives -----------------------------------------------------------------------------------------------

const VERIFIERS_HERE: Verifier[] = ['cosign v2', 'cosign v3', 'chainsmith verify'];
const USAGE_ERROR = /unknown (flag|shorthand)|required flag|invalid argument|Usage:/;

/** The outcome of one attempt that must fail: who, on what, and what it said. */
interface Attempt {
  verifier: Verifier;
  scenario: string;
  what: string;
  out: ToolOutcome;
  /** a further condition on the refusal (it was refused for the right reason); returns why not */
  why?: (out: ToolOutcome) => string | undefined;
}

/** cosign refused: a non-zero exit that is not a usage error. */
function cosignRefused(out: ToolOutcome): string | undefined {
  if (out.code === 0) return 'accepted';
  if (USAGE_ERROR.test(out.out)) return `a usage error, not a verification failure: ${firstLine(out.out)}`;
  return undefined;
}

/** chainsmith verify refused: exit 1 (not verified), not 2 (bad input), with a report saying so. */
function chainsmithRefused(out: ToolOutcome): string | undefined {
  if (out.code === 0) return 'accepted';
  if (out.code !== 1) return `exit ${out.code} (bad input?): ${firstLine(out.out)}`;
  return report(out).verified === false ? undefined : 'the report says verified';
}

/**
 * Records `negative` for each verifier from the attempts (all refused: `denied`; any accepted: `accepted`, naming
 * where), then fails the test if any attempt was not refused for the right reason.
 */
function recordRefusals(t: TestContext, negative: Negative, attempts: Attempt[]): void {
  const name = `${FILE} › ${t.name}`;
  const problems: string[] = [];
  for (const verifier of VERIFIERS_HERE) {
    const mine = attempts.filter((a) => a.verifier === verifier);
    assert.ok(mine.length >= SCENARIOS.length, `${verifier} was tried in every scenario`);
    const bad = mine.flatMap((a) => {
      const refused = verifier === 'chainsmith verify' ? chainsmithRefused(a.out) : cosignRefused(a.out);
      const why = refused ?? a.why?.(a.out);
      return why ? [{ a, why }] : [];
    });
    const accepted = bad.filter((b) => b.why === 'accepted');
    if (accepted.length > 0)
      recordNegative(
        negative,
        verifier,
        'accepted',
        name,
        `accepted on ${[...new Set(accepted.map((b) => b.a.scenario))].join(', ')}`,
      );
    else if (bad.length === 0) recordNegative(negative, verifier, 'denied', name);
    for (const b of bad)
      problems.push(`${verifier} on ${b.a.scenario}, ${b.a.what}: ${b.why}\n${b.a.out.out.slice(0, 1500)}`);
  }
  assert.deepEqual(problems, [], problems.join('\n\n'));
}

const label = (s: { signer: SignerKind; encoding: Encoding }) => `${s.signer} / ${s.encoding}`;

// ---- the tests -----------------------------------------------------------------------------------------------

before(async () => {
  policyDir = await mkdtemp(join(tmpdir(), 'chainsmith-interop-policies-'));
  // start every scenario now (each describe awaits its own), so controllers come up while earlier tests run
  for (const { signer, encoding } of SCENARIOS) scenario(signer, encoding).catch(() => undefined);
});

after(async () => {
  await closeScenarios();
  closeRegistryConnections();
  await rm(policyDir, { recursive: true, force: true });
});

for (const { signer, encoding } of SCENARIOS) {
  const where = label({ signer, encoding });
  describe(`${where}: images signed by the controller`, () => {
    let s: Scenario;
    before(async () => {
      s = await scenario(signer, encoding);
    });

    test(`${where}: cosign v2, cosign v3 and chainsmith verify accept the image signature`, async (t) => {
      // both images: the signature stays the same whichever provenance format chains-config asked for
      const both = async (check: (img: SignedImage) => Promise<void>) => {
        await check(s.slsa02);
        await check(s.slsa10);
      };
      await cells(t, { payload: 'simplesigning', encoding, signer }, [
        ...COSIGNS.map((v): [Verifier, () => Promise<void>] => [
          v,
          () => both((img) => cosignAcceptsSignature(v, s, img)),
        ]),
        ['chainsmith verify', () => both((img) => chainsmithAcceptsSignature(s, img))],
      ]);
    });

    for (const payload of ['SLSA v0.2', 'SLSA v1.0'] as const) {
      test(`${where}: cosign v2, cosign v3 and chainsmith verify accept the ${payload} provenance naming our builder.id`, async (t) => {
        await cells(t, { payload, encoding, signer }, [
          ...COSIGNS.map((v): [Verifier, () => Promise<void>] => [v, () => cosignAcceptsProvenance(v, s, payload)]),
          ['chainsmith verify', () => chainsmithAcceptsProvenance(s, payload)],
        ]);
      });
    }
  });
}

describe('what every verifier must refuse, for every signer and encoding', () => {
  let all: Scenario[];
  before(async () => {
    all = await Promise.all(SCENARIOS.map(({ signer, encoding }) => scenario(signer, encoding)));
  });

  test('a signature by another key (keyless: another identity) is refused by cosign v2, cosign v3 and chainsmith verify', async (t) => {
    const attempts = await Promise.all(
      all.flatMap((s) => {
        const pin: Pin = s.trust.identity ? { identity: s.trust.otherIdentity } : { key: s.trust.otherPublicKeyFile };
        const what = s.trust.identity ? `identity ${pin.identity}` : 'another public key';
        return [
          ...COSIGNS.flatMap((v) => [
            attempt(v, s, `verify with ${what}`, cosign(v, s, ['verify', s.slsa02.ref], pin)),
            attempt(
              v,
              s,
              `verify-attestation with ${what}`,
              cosign(v, s, ['verify-attestation', '--type', 'slsaprovenance', s.slsa02.ref], pin),
            ),
          ]),
          attempt('chainsmith verify', s, `with ${what}`, chainsmithVerify(s, s.slsa02.ref, [], pin), (out) =>
            report(out).links.find((l) => l.name === 'signature')?.status === 'failed'
              ? undefined
              : 'the signature link did not fail',
          ),
        ];
      }),
    );
    recordRefusals(t, 'wrong key', attempts);
  });

  test('provenance naming another builder.id is refused by a cosign policy (CUE and Rego) and by chainsmith verify --builder-id', async (t) => {
    const attempts = await Promise.all(
      all.flatMap((s) =>
        (['SLSA v0.2', 'SLSA v1.0'] as const).flatMap((payload) => {
          const img = s[PROVENANCE[payload].image];
          const type = PROVENANCE[payload].type;
          const policyDenied = (out: ToolOutcome) =>
            /conflicting values|validation errors? occurred|polic/i.test(out.out)
              ? undefined
              : 'refused, but not by the policy';
          return [
            ...COSIGNS.map(async (v) => {
              const policy = await builderPolicy(payload, OTHER_BUILDER);
              const args = ['verify-attestation', '--type', type, '--policy', policy, img.ref];
              return attempt(v, s, `${payload} with a policy for ${OTHER_BUILDER}`, cosign(v, s, args), policyDenied);
            }),
            attempt(
              'chainsmith verify',
              s,
              `${payload} with --builder-id ${OTHER_BUILDER}`,
              chainsmithVerify(s, img.ref, ['--predicate-type', type, '--builder-id', OTHER_BUILDER]),
              (out) =>
                report(out).links.find((l) => l.name === 'builder-id')?.status === 'failed'
                  ? undefined
                  : 'the builder-id link did not fail',
            ),
          ];
        }),
      ),
    );
    recordRefusals(t, 'wrong builder.id', attempts);
  });

  test('an image nobody signed is refused by cosign v2, cosign v3 and chainsmith verify', async (t) => {
    const attempts = await Promise.all(
      all.flatMap((s) => [
        ...COSIGNS.flatMap((v) => [
          attempt(v, s, 'verify', cosign(v, s, ['verify', s.unsigned.ref])),
          attempt(
            v,
            s,
            'verify-attestation',
            cosign(v, s, ['verify-attestation', '--type', 'slsaprovenance', s.unsigned.ref]),
          ),
        ]),
        attempt('chainsmith verify', s, 'verify', chainsmithVerify(s, s.unsigned.ref)),
      ]),
    );
    recordRefusals(t, 'unsigned image', attempts);
  });

  test('an image whose stored signature and provenance were edited after signing is refused by cosign v2, cosign v3 and chainsmith verify', async (t) => {
    const tampered = await Promise.all(
      all.map(async (s) => {
        const img = await freshSignedImage(s.signer, s.encoding, 'SLSA v1.0');
        await tamperSignature(img, s.encoding);
        await tamperAttestation(img, s.encoding);
        return { s, img };
      }),
    );
    // something was found and refused, not "nothing there"
    const found = (out: ToolOutcome) =>
      /no signatures found|no matching attestations: *$/m.test(out.out) ? 'it found nothing to refuse' : undefined;
    const attempts = await Promise.all(
      tampered.flatMap(({ s, img }) => [
        ...COSIGNS.flatMap((v) => [
          attempt(v, s, 'verify', cosign(v, s, ['verify', img.ref]), found),
          attempt(
            v,
            s,
            'verify-attestation',
            cosign(v, s, ['verify-attestation', '--type', 'slsaprovenance1', img.ref]),
            found,
          ),
        ]),
        attempt(
          'chainsmith verify',
          s,
          '--require-attestation',
          chainsmithVerify(s, img.ref, ['--require-attestation']),
          (out) => {
            const r = report(out);
            return r.signatures.length > 0 &&
              r.attestations.length > 0 &&
              ![...r.signatures, ...r.attestations].some((i) => i.authentic)
              ? undefined
              : `expected every stored signature and attestation to be found and none authentic`;
          },
        ),
      ]),
    );
    recordRefusals(t, 'tampered layer', attempts);
  });
});

async function attempt(
  verifier: Verifier,
  s: Scenario,
  what: string,
  out: Promise<ToolOutcome>,
  why?: (out: ToolOutcome) => string | undefined,
): Promise<Attempt> {
  return { verifier, scenario: label(s), what, out: await out, why };
}

/** A concurrency limit for child processes. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    while (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
