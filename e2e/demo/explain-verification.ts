// Turns cosign's verification output into a few lines a person can read, for e2e/demo.sh:
//   explain-verification.ts signature FILE     (stdout of `cosign verify`: a JSON array of simple-signing payloads)
//   explain-verification.ts attestation FILE   (stdout of `cosign verify-attestation`: one DSSE envelope per line)
import { readFileSync } from 'node:fs';

interface SimpleSigning {
  critical?: {
    identity?: { 'docker-reference'?: string };
    image?: { 'docker-manifest-digest'?: string };
    type?: string;
  };
  optional?: Record<string, unknown> | null;
}

interface Statement {
  _type?: string;
  predicateType?: string;
  subject?: { name?: string; digest?: Record<string, string> }[];
  predicate?: {
    builder?: { id?: string };
    buildType?: string;
    invocation?: { configSource?: { uri?: string; digest?: Record<string, string> } };
    metadata?: { buildStartedOn?: string; buildFinishedOn?: string };
    materials?: { uri?: string }[];
    runDetails?: { builder?: { id?: string } };
  };
}

const say = (s: string) => process.stdout.write(`    ${s}\n`);

function signature(text: string): void {
  const payloads = JSON.parse(text) as SimpleSigning[];
  for (const p of payloads) {
    say(
      `✓ signature over ${p.critical?.identity?.['docker-reference']}@${p.critical?.image?.['docker-manifest-digest']}`,
    );
    say(
      `  payload type "${p.critical?.type}", verified with the demo's cosign.pub (no transparency log: --insecure-ignore-tlog)`,
    );
  }
  say(`${payloads.length} valid signature${payloads.length === 1 ? '' : 's'} in the image's .sig tag`);
}

function attestation(text: string): void {
  const envelopes = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { payloadType: string; payload: string; signatures: { keyid?: string }[] });
  for (const env of envelopes) {
    const st = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as Statement;
    const p = st.predicate ?? {};
    say(`✓ DSSE envelope (${env.payloadType}) signed by keyid ${env.signatures[0]?.keyid ?? '(none)'}`);
    say(`  ${st._type} with predicateType ${st.predicateType}`);
    say(`  builder.id  ${p.builder?.id ?? p.runDetails?.builder?.id}   ← required by the policy`);
    if (p.buildType) say(`  buildType   ${p.buildType}`);
    const cs = p.invocation?.configSource;
    if (cs?.uri) say(`  source      ${cs.uri}${cs.digest?.sha1 ? `@${cs.digest.sha1}` : ''}`);
    for (const s of st.subject ?? []) say(`  subject     ${s.name}@sha256:${s.digest?.sha256}`);
    if (p.metadata?.buildStartedOn) say(`  built       ${p.metadata.buildStartedOn} → ${p.metadata.buildFinishedOn}`);
    if (p.materials) say(`  materials   ${p.materials.length} (${p.materials.map((m) => m.uri).join(', ')})`);
  }
  say(
    `${envelopes.length} attestation${envelopes.length === 1 ? '' : 's'} passed the signature check and the builder.id policy`,
  );
}

const [kind, file] = process.argv.slice(2);
const text = readFileSync(file ?? '/dev/stdin', 'utf8');
if (kind === 'signature') signature(text);
else if (kind === 'attestation') attestation(text);
else {
  process.stderr.write('usage: explain-verification.ts signature|attestation FILE\n');
  process.exitCode = 2;
}
