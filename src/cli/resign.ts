// `chainsmith resign`: clears the signed/failed marks on runs so the controller signs them again.
import { messageOf } from '../errors.js';
import { progressReporter } from '../audit/progress.js';
import { CLEARED_MARKS, resign } from '../audit/resign.js';
import { parseFlags } from './args.js';
import { escapeTerminal } from '../text/terminal.js';
import { CliError } from './errors.js';
import { checkScopeFlags, connectScope, RUN_SCOPE_FLAGS } from './run-scope.js';

export const help = `Usage: chainsmith resign [--namespace N | --all-namespaces] [--selector S] [--since D]
                         [--failed-only] [--dry-run]

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
  --context NAME        the kubeconfig context to use (default: its current-context)

Progress goes to stderr (a bar on a terminal). Exit status: 0 done, 1 some patches failed, 2 bad input.
`;

/** Runs `resign`. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...RUN_SCOPE_FLAGS,
    selector: { type: 'string', short: 'l' },
    'failed-only': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const sinceSeconds = checkScopeFlags(values, positionals);
  const { cluster, namespace } = connectScope(values);
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
      onProgress: (done, total, r) => progress.update(done, total, escapeTerminal(`${r.namespace}/${r.name}`)),
    });
  } catch (err) {
    progress.end();
    throw new CliError(`cannot resign: ${escapeTerminal(messageOf(err))}`, 1);
  }
  progress.end();
  if (values.json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } else {
    const scope = namespace === undefined ? 'all namespaces' : `namespace ${namespace}`;
    const lines: string[] = [];
    if (dryRun) {
      lines.push(`dry run: would clear the marks on ${result.selected.length} run(s) in ${scope}; nothing was changed`);
      // names and errors come from the API server: escaped before they reach the terminal
      for (const r of result.selected.slice(0, 200)) {
        lines.push(`  ${r.kind} ${escapeTerminal(`${r.namespace}/${r.name} (${r.was})`)}`);
      }
      if (result.selected.length > 200) lines.push(`  … ${result.selected.length - 200} more (use --json for all)`);
    } else {
      lines.push(
        `cleared the marks on ${result.cleared} of ${result.selected.length} run(s) in ${scope}; ` +
          'the controller will sign them again',
      );
      if (result.gone > 0) lines.push(`${result.gone} run(s) were deleted meanwhile`);
      for (const e of result.errors.slice(0, 20)) lines.push(`failed: ${escapeTerminal(`${e.run}: ${e.error}`)}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  }
  return result.errors.length > 0 ? 1 : 0;
}
