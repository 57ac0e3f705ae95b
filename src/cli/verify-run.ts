// `chainsmith verify-run NAMESPACE/NAME`: verifies the payloads and signatures the `tekton` storage backend
// wrote on a run's annotations, with the same checks `verify` uses for registries.
import { KubeClient, PIPELINERUNS, TASKRUNS } from '../kube/client.js';
import { messageOf } from '../errors.js';
import type { Run } from '../tekton/types.js';
import { verifyRunAnnotations, type RunVerifyReport } from '../verify/run-annotations.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { checkPublicKeyFlags, PUBLIC_KEY_FLAGS, readPublicKeyFlag } from './key-flags.js';
import { escapeTerminal as e } from '../text/terminal.js';
import { fromKubeconfig, parseRunTarget } from './run-scope.js';

export const help = `Usage: chainsmith verify-run NAMESPACE/NAME [--kind taskrun|pipelinerun]
                             (--key cosign.pub | --kms REF) [flags]

Verifies what the "tekton" storage backend stored on a run (the chains.tekton.dev/payload-* and signature-*
annotations, as \`tkn chain payload/signature\` read them):
  run provenance (payload-taskrun-<uid>)  the signature is a DSSE envelope that verifies with the key, its payload
                                          is exactly the payload annotation, the uid is this run's, and the signed
                                          statement names this run (v1.0: runDetails.metadata.invocationId = uid;
                                          v0.2: buildType kind and buildStartedOn/FinishedOn); subjects are listed
  image signatures (payload-<12 hex>)     the raw signature verifies over the simple-signing payload, whose digest
                                          starts with the 12 hex of the key

Flags:
  --kind K           taskrun (default) or pipelinerun
  --key FILE         public key PEM (cosign.pub) or certificate
  --kms REF          public key of a KMS key (hashivault://, awskms://, gcpkms://, azurekms://)
  --kubeconfig FILE  default $KUBECONFIG, else in-cluster
  --context NAME     the kubeconfig context to use (default: its current-context)
  --json             print the report as JSON

Exit status: 0 verified, 1 not verified (or nothing stored), 2 bad input.
`;

/** Runs `verify-run`. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    kind: { type: 'string', default: 'taskrun' },
    ...PUBLIC_KEY_FLAGS,
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new CliError('one NAMESPACE/NAME is required (see --help)');
  const target = parseRunTarget(positionals[0]!, undefined, undefined);
  const kind = values.kind?.toLowerCase();
  if (kind !== 'taskrun' && kind !== 'pipelinerun')
    throw new CliError(`--kind must be taskrun or pipelinerun, not "${values.kind}"`);
  checkPublicKeyFlags(values);
  let key;
  try {
    key = await readPublicKeyFlag(values);
  } catch (err) {
    throw new CliError(messageOf(err));
  }
  const client = fromKubeconfig(values, (connection) => new KubeClient(connection));
  let obj: Run | undefined;
  try {
    obj = await client.get<Run>(kind === 'taskrun' ? TASKRUNS : PIPELINERUNS, target.namespace, target.name);
  } catch (err) {
    throw new CliError(`cannot read ${kind} ${positionals[0]}: ${e(messageOf(err))}`, 1);
  }
  if (!obj) throw new CliError(`${kind} ${positionals[0]} not found`, 1);
  const report = verifyRunAnnotations(obj, key);
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : renderRunReport(report));
  if (!report.verified && !values.json) {
    process.stderr.write(`chainsmith verify-run: ${e(report.run)}: ${e(report.firstFailure ?? '')}\n`);
  }
  return report.verified ? 0 : 1;
}

const MARK = { passed: 'PASS', failed: 'FAIL', skipped: 'skip' } as const;

/** The readable report. */
export function renderRunReport(r: RunVerifyReport): string {
  // annotation keys, payload fields and the run's names are the run author's: escaped (src/text/terminal.ts)
  const lines = [`${r.verified ? 'VERIFIED' : 'NOT VERIFIED'}  ${e(r.kind)} ${e(r.run)} (uid ${e(r.uid)})`];
  for (const entry of r.entries) {
    const type = `${entry.kind}${entry.predicateType ? `, ${e(entry.predicateType)}` : ''}`;
    lines.push('', `  ${entry.ok ? 'valid  ' : 'INVALID'}  ${e(entry.shortKey)}  (${type})`);
    for (const c of entry.checks) lines.push(`           ${MARK[c.status]}  ${e(c.name)}: ${e(c.detail)}`);
  }
  if (r.firstFailure) lines.push('', `first broken link: ${e(r.firstFailure)}`);
  return lines.join('\n') + '\n';
}
