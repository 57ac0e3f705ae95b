// `chainsmith resign`: clears the signed/failed marks on runs so the controller signs them again.
import { loadKubeConfig } from '../controller/kube-client.js';
import { messageOf } from '../errors.js';
import { Cluster } from '../audit/cluster.js';
import { parseDuration } from '../audit/duration.js';
import { progressReporter } from '../audit/progress.js';
import { CLEARED_MARKS, resign } from '../audit/resign.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';

export const help = `Usage: chainsmith resign [--namespace N | --all-namespaces] [--selector S] [--since D] [--failed-only] [--dry-run]

Clears ${CLEARED_MARKS.join(', ')} on completed runs (one JSON merge patch each), so the controller signs
them again — after rotating the signing key, fixing a registry or KMS outage, or changing chains-config.
The stored payload/signature annotations stay until the new signing overwrites them.

Flags:
  --namespace N         one namespace (default: the kubeconfig context's namespace, else "default")
  --all-namespaces, -A  every namespace
  --selector S, -l S    label selector, e.g. app=web,tekton.dev/pipeline=build
  --since D             only runs completed within D (e.g. 30m, 24h, 7d)
  --failed-only         only runs marked signed: "failed" or with a recorded failure
  --dry-run             list what would be cleared; change nothing
  --json                print the result as JSON
  --kubeconfig F        default $KUBECONFIG, else in-cluster

Progress goes to stderr (a bar on a terminal). Exit status: 0 done, 1 some patches failed, 2 bad input.
`;

/** Runs `resign`. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    namespace: { type: 'string', short: 'n' },
    'all-namespaces': { type: 'boolean', short: 'A' },
    selector: { type: 'string', short: 'l' },
    since: { type: 'string' },
    'failed-only': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    kubeconfig: { type: 'string' },
  });
  if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}"`);
  if (values.namespace !== undefined && values['all-namespaces']) throw new CliError('give --namespace or --all-namespaces, not both');
  let sinceSeconds: number | undefined;
  if (values.since !== undefined) {
    sinceSeconds = parseDuration(values.since);
    if (sinceSeconds === undefined) throw new CliError(`--since "${values.since}" is not a duration like 30m, 24h or 7d`);
  }
  let cluster: Cluster;
  try {
    cluster = new Cluster(loadKubeConfig(values.kubeconfig));
  } catch (err) {
    throw new CliError(`cannot load the kubeconfig: ${messageOf(err)}`);
  }
  const kc = cluster.kubeConfig;
  const namespace = values['all-namespaces'] ? undefined : (values.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default');
  const dryRun = values['dry-run'] ?? false;
  const progress = progressReporter(process.stderr, 'resign');
  let result;
  try {
    result = await resign(cluster, {
      ...(namespace !== undefined ? { namespace } : {}),
      ...(values.selector !== undefined ? { labelSelector: values.selector } : {}),
      ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
      failedOnly: values['failed-only'] ?? false,
      dryRun,
      now: Date.now(),
      onProgress: (done, total, r) => progress.update(done, total, `${r.namespace}/${r.name}`),
    });
  } catch (err) {
    progress.end();
    throw new CliError(`cannot resign: ${messageOf(err)}`, 1);
  }
  progress.end();
  if (values.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } else {
    const scope = namespace === undefined ? 'all namespaces' : `namespace ${namespace}`;
    const lines: string[] = [];
    if (dryRun) {
      lines.push(`dry run: would clear the marks on ${result.selected.length} run(s) in ${scope}; nothing was changed`);
      for (const r of result.selected.slice(0, 200)) lines.push(`  ${r.kind} ${r.namespace}/${r.name} (${r.was})`);
      if (result.selected.length > 200) lines.push(`  … ${result.selected.length - 200} more (use --json for all)`);
    } else {
      lines.push(`cleared the marks on ${result.cleared} of ${result.selected.length} run(s) in ${scope}; the controller will sign them again`);
      if (result.gone > 0) lines.push(`${result.gone} run(s) were deleted meanwhile`);
      for (const e of result.errors.slice(0, 20)) lines.push(`failed: ${e.run}: ${e.error}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  }
  return result.errors.length > 0 ? 1 : 0;
}
