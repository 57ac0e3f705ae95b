// `chainsmith audit`: a coverage report over completed runs — signed, failed (why), skipped (why) or pending (how
// long) — with totals per namespace, the oldest pending run and completion → signed latency.
import { messageOf } from '../errors.js';
import { audit } from '../audit/audit.js';
import { renderAuditText } from '../audit/render.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { checkScopeFlags, connectScope, RUN_SCOPE_FLAGS } from './run-scope.js';

export const help = `Usage: chainsmith audit [--namespace N | --all-namespaces] [--since DURATION] [--json] [--kubeconfig F]

Reports every completed TaskRun and PipelineRun in scope as:
  signed   chains.tekton.dev/signed: "true"
  failed   signed: "failed" (gave up), or retrying after a recorded failure; the reason comes from the
           chainsmith.dev/last-failure annotation, else from chainsmith's latest failure Event
  skipped  deliberately not signed: spec.managedBy not allowed by chains-config filter.managedBy, or a
           chainsmith Event NoArtifacts / SigningDisabled / DeletedBeforeSigned
  pending  completed but not (yet) signed, with its age
then totals per namespace, the oldest pending run, and p50/p95 of completion → signed time (from
chainsmith.dev/signed-at; runs signed by Tekton Chains have no such time and are not counted there).

Flags:
  --namespace N         one namespace (default: the kubeconfig context's namespace, else "default")
  --all-namespaces, -A  every namespace
  --since D             only runs completed within D (e.g. 30m, 24h, 7d)
  --json                the report, with every run, as JSON
  --kubeconfig F        default $KUBECONFIG, else in-cluster
  --system-namespace S  where chains-config lives (default $SYSTEM_NAMESPACE, else tekton-chains)
  --page-size N         runs per list request (default 500)

Exit status: 0 report printed (whatever it says), 1 the API could not be read, 2 bad input.
`;

/** Runs `audit`. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...RUN_SCOPE_FLAGS,
    json: { type: 'boolean' },
    'system-namespace': { type: 'string' },
    'page-size': { type: 'string' },
  });
  const sinceSeconds = checkScopeFlags(values, positionals);
  const pageSize = values['page-size'] === undefined ? undefined : Number(values['page-size']);
  if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize > 0)) throw new CliError(`--page-size must be a positive integer`);
  const { cluster, namespace } = connectScope(values);
  let result;
  try {
    result = await audit(cluster, {
      ...(namespace !== undefined ? { namespace } : {}),
      ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
      ...(pageSize !== undefined ? { pageSize } : {}),
      systemNamespace: values['system-namespace'] ?? process.env.SYSTEM_NAMESPACE ?? 'tekton-chains',
      now: Date.now(),
    });
  } catch (err) {
    throw new CliError(`cannot read runs: ${messageOf(err)}`, 1);
  }
  process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : renderAuditText(result));
  return 0;
}
