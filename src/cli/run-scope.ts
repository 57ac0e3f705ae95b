// The flags `audit` and `resign` share to pick the runs they look at: --namespace / --all-namespaces, --since,
// and --kubeconfig. One place, so both commands accept and reject exactly the same input.
import { loadKubeConfig } from '../controller/kube-client.js';
import { messageOf } from '../errors.js';
import { Cluster } from '../audit/cluster.js';
import { parseDuration } from '../audit/duration.js';
import { CliError } from './errors.js';

/** The parseFlags options of the run scope (spread them into a command's own options). */
export const RUN_SCOPE_FLAGS = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  since: { type: 'string' },
  kubeconfig: { type: 'string' },
} as const;

interface ScopeValues {
  namespace?: string;
  'all-namespaces'?: boolean;
  since?: string;
  kubeconfig?: string;
}

/** Rejects positionals and --namespace with --all-namespaces; returns --since in seconds (undefined: no limit). */
export function checkScopeFlags(values: ScopeValues, positionals: string[]): number | undefined {
  if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}"`);
  if (values.namespace !== undefined && values['all-namespaces']) throw new CliError('give --namespace or --all-namespaces, not both');
  if (values.since === undefined) return undefined;
  const sinceSeconds = parseDuration(values.since);
  if (sinceSeconds === undefined) throw new CliError(`--since "${values.since}" is not a duration like 30m, 24h or 7d`);
  return sinceSeconds;
}

/** The cluster of --kubeconfig (else $KUBECONFIG, else in-cluster) and the namespace in scope (undefined: all). */
export function connectScope(values: ScopeValues): { cluster: Cluster; namespace: string | undefined } {
  let cluster: Cluster;
  try {
    cluster = new Cluster(loadKubeConfig(values.kubeconfig));
  } catch (err) {
    throw new CliError(`cannot load the kubeconfig: ${messageOf(err)}`);
  }
  const namespace = values['all-namespaces'] ? undefined : (values.namespace ?? cluster.connection.namespace ?? 'default');
  return { cluster, namespace };
}
