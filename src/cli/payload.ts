// `chainsmith payload NAMESPACE/NAME`: prints a run's stored payload from its `tekton` storage annotations,
// decoded, like `tkn chain payload`. `chainsmith signature` (signature.ts) shares the lookup.
import { ChainsmithError, messageOf } from '../errors.js';
import { KubeClient, PIPELINERUNS, TASKRUNS } from '../kube/client.js';
import { CHAINS_PREFIX, tektonAnnotationKeys } from '../tekton/annotations.js';
import type { Run } from '../tekton/types.js';
import { escapeTerminalText } from '../text/terminal.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { fromKubeconfig, parseRunTarget } from './run-scope.js';

export const help = `Usage: chainsmith payload NAMESPACE/NAME [--kind taskrun|pipelinerun] [--key SHORTKEY]
                          [--kubeconfig FILE] [--context NAME]

Prints the payload chainsmith (or Tekton Chains) stored on a run with the tekton storage backend
(annotation chains.tekton.dev/payload-<key>), base64-decoded: the in-toto statement for the run.
On a terminal, control characters are shown as escapes; redirected to a file or a pipe, the
stored bytes are written exactly.

Flags:
  --kind taskrun|pipelinerun  the run's kind (default: a TaskRun of that name, else a PipelineRun)
  --key SHORTKEY              another stored object: the first 12 hex digits of an image digest
                              (default: taskrun-<uid> / pipelinerun-<uid>, the run's own attestation)
  --kubeconfig FILE           kubeconfig (default: $KUBECONFIG, else in-cluster)
  --context NAME              the kubeconfig context to use (default: its current-context)
  -n, --namespace NS          the run's namespace when NAME has no NAMESPACE/ prefix (default: default)
  -h, --help                  show this help`;

/** Which stored annotation to print. */
export type StoredPart = 'payload' | 'signature';

/** Reads one stored part of a run's tekton-storage annotations; prints it decoded. */
export async function printStored(part: StoredPart, argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    kind: { type: 'string' },
    key: { type: 'string' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    namespace: { type: 'string', short: 'n' },
  });
  const target = positionals[0];
  if (!target || positionals.length > 1) throw new CliError('expected one argument: NAMESPACE/NAME');
  const { namespace, name } = parseRunTarget(target, values.namespace, 'default');
  const kind = values.kind?.toLowerCase();
  if (kind !== undefined && kind !== 'taskrun' && kind !== 'pipelinerun')
    throw new CliError(`--kind: expected taskrun or pipelinerun, got "${values.kind}"`);

  const client = fromKubeconfig(values, (connection) => new KubeClient(connection));
  let run: Run | undefined;
  try {
    if (kind !== 'pipelinerun') run = await client.get<Run>(TASKRUNS, namespace, name);
    if (!run && kind !== 'taskrun') run = await client.get<Run>(PIPELINERUNS, namespace, name);
  } catch (err) {
    throw new CliError(`cannot read ${namespace}/${name}: ${messageOf(err)}`, 1);
  }
  if (!run) throw new CliError(`no ${kind ?? 'TaskRun or PipelineRun'} ${namespace}/${name}`, 1);
  const shortKey = values.key ?? `${run.kind.toLowerCase()}-${run.metadata.uid ?? ''}`;
  const annotation = tektonAnnotationKeys(shortKey)[part];
  const value = run.metadata.annotations?.[annotation];
  if (value === undefined) {
    const keys = Object.keys(run.metadata.annotations ?? {})
      .filter((k) => k.startsWith(`${CHAINS_PREFIX}${part}-`))
      .map((k) => k.slice(`${CHAINS_PREFIX}${part}-`.length));
    const hint =
      keys.length > 0
        ? `; stored keys: ${keys.join(', ')} (use --key)`
        : '; the run has no tekton-storage annotations (not signed yet, or storage is not "tekton")';
    throw new CliError(`${run.kind} ${namespace}/${name} has no annotation ${annotation}${hint}`, 1);
  }
  const decoded = Buffer.from(value, 'base64');
  if (process.stdout.isTTY) {
    // Anyone who can edit the run wrote these bytes: on a terminal, control characters are shown escaped.
    // Redirected to a file or a pipe, the exact stored bytes are written (what cosign verify-blob needs).
    const text = escapeTerminalText(decoded.toString('utf8'));
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  } else {
    process.stdout.write(decoded);
  }
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  try {
    return await printStored('payload', argv);
  } catch (err) {
    if (err instanceof ChainsmithError) throw new CliError(err.message, 1);
    throw err;
  }
}
