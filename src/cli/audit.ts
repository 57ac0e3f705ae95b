// `chainsmith audit`: a coverage report over completed runs — signed, unverified or unlogged (why), failed (why),
// skipped (why) or pending (how long) — with totals per namespace, per keyless identity and per signing policy and
// signer, the oldest pending run and completion → signed latency.
import type { KeyObject } from 'node:crypto';
import { ChainsmithError, messageOf } from '../errors.js';
import { kmsPublicKey, readPublicKeyFile } from '../verify/key.js';
import { audit } from '../audit/audit.js';
import { renderAuditText } from '../audit/render.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { checkScopeFlags, connectScope, RUN_SCOPE_FLAGS } from './run-scope.js';
import type { StoredReader } from '../storage/read/types.js';
import { parseFrom, readerFor, systemNamespaceOf } from './read-from.js';

export const help = `Usage: chainsmith audit [--namespace N | -A] [--since D] [--key F | --kms REF] [--from BACKEND]
                        [--policy NAME] [--json]

Reports every completed TaskRun and PipelineRun in scope as:
  signed      chains.tekton.dev/signed: "true" (with --key/--kms: and a stored signature verifies, below)
  unverified  (--key/--kms only) marked "true", but neither chainsmith.dev/mark-signature nor the run's
              chains.tekton.dev/signature-<kind>-<uid> provenance verifies with the key and names this run;
              with --from BACKEND: the provenance read back from that backend does not (or cannot be read)
  unlogged    marked "true", but no chains.tekton.dev/transparency (Rekor entry) although chains-config uploads
              this run's signatures (transparency.enabled: "true", or "manual" and the run is annotated
              chains.tekton.dev/transparency-upload: "true")
  failed      signed: "failed" (gave up), or retrying after a recorded failure; the reason comes from the
              chainsmith.dev/last-failure annotation, else from chainsmith's latest failure Event
  skipped     deliberately not signed: spec.managedBy not allowed by chains-config filter.managedBy, or a
              chainsmith Event NoArtifacts / SigningDisabled / DeletedBeforeSigned
  pending     completed but not (yet) signed, with its age
then totals per namespace, the oldest pending run, and p50/p95 of completion → signed time (from
chainsmith.dev/signed-at; runs signed by Tekton Chains have no such time and are not counted there).
Runs signed keylessly also show their signing identity: the SAN and OIDC issuer of the Fulcio certificate in
chains.tekton.dev/cert-<key> (read as stored, not verified), counted per identity; --json has it per run.
Once some run was signed under a SigningPolicy (docs/signing-policies.md), a table BY SIGNING POLICY counts
the runs per state for each policy (chainsmith.dev/signing-policy, as <namespace>/<name>) and signer
(chainsmith.dev/policy-signer: secret/<name>, kms/<ref> or keyless/<namespace>/<sa>; else the keyless identity,
else chains-config). Runs without a policy count under chains-config (so do pending ones: the annotation is
written when a run is signed); runs failed with PolicyRefused or PolicyConflict under (refused) or (conflict).
--json always has summary.policies, and policy and policySigner on each run signed under a policy.

Flags:
  --namespace N         one namespace (default: the kubeconfig context's namespace, else "default")
  --all-namespaces, -A  every namespace
  --since D             only runs completed within D (e.g. 30m, 24h, 7d)
  --key FILE            verify signed marks with this public key (PEM or certificate; the controller's signer)
  --kms REF             verify signed marks with the public key of this KMS key
  --from BACKEND        with --key/--kms: a signed run is verified when what BACKEND stored for it (tekton, gcs,
                        docdb, grafeas, kafka or archivista, as chains-config configures it) verifies, with the
                        checks of \`verify-run --from\`, instead of its annotations; kafka's topic is read once
  --policy NAME         only runs counted under this signing policy: <namespace>/<name>, <name> (any namespace),
                        chains-config, (refused) or (conflict)
  --json                the report, with every run, as JSON
  --kubeconfig F        default $KUBECONFIG, else in-cluster
  --context NAME        the kubeconfig context to use (default: its current-context)
  --system-namespace S  where chains-config lives (default $SYSTEM_NAMESPACE, else tekton-chains)
  --page-size N         runs per list request (default 500)

Exit status: 0 report printed (whatever it says), 1 the API could not be read, 2 bad input.
`;

/** Runs `audit`. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    ...RUN_SCOPE_FLAGS,
    json: { type: 'boolean' },
    key: { type: 'string' },
    kms: { type: 'string' },
    'system-namespace': { type: 'string' },
    'page-size': { type: 'string' },
    from: { type: 'string' },
    policy: { type: 'string' },
  });
  const sinceSeconds = checkScopeFlags(values, positionals);
  const pageSize = values['page-size'] === undefined ? undefined : Number(values['page-size']);
  if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize > 0))
    throw new CliError(`--page-size must be a positive integer`);
  if (values.policy !== undefined && values.policy.trim() === '') throw new CliError('--policy needs a name');
  if (values.key !== undefined && values.kms !== undefined) {
    throw new CliError('give --key FILE or --kms REF, not both');
  }
  let markKey: { key: KeyObject; name: string } | undefined;
  try {
    if (values.key !== undefined) markKey = { key: await readPublicKeyFile(values.key), name: values.key };
    else if (values.kms !== undefined) markKey = { key: await kmsPublicKey(values.kms), name: values.kms };
  } catch (err) {
    // a KMS that cannot be reached is not bad input
    if (err instanceof ChainsmithError && err.transient) {
      throw new CliError(`cannot read the public key: ${messageOf(err)}`, 1);
    }
    throw new CliError(messageOf(err));
  }
  const from = values.from === undefined ? undefined : parseFrom(values.from, false);
  if (from !== undefined && !markKey) throw new CliError('--from needs the key to verify with: give --key or --kms');
  const { cluster, namespace } = connectScope(values);
  const systemNamespace = systemNamespaceOf(values['system-namespace']);
  let reader: StoredReader | undefined;
  if (from !== undefined) {
    const { config, note } = await cluster.chainsConfig(systemNamespace);
    reader = readerFor(from, config, systemNamespace, note);
  }
  let result;
  try {
    result = await audit(cluster, {
      ...(namespace !== undefined ? { namespace } : {}),
      ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
      ...(pageSize !== undefined ? { pageSize } : {}),
      ...(markKey ? { markKey } : {}),
      ...(values.policy !== undefined ? { policy: values.policy.trim() } : {}),
      ...(reader && markKey ? { readBack: { reader, key: markKey.key } } : {}),
      systemNamespace,
      now: Date.now(),
    });
  } catch (err) {
    throw new CliError(`cannot read runs: ${messageOf(err)}`, 1);
  } finally {
    await reader?.close?.().catch(() => undefined);
  }
  process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : renderAuditText(result));
  return 0;
}
