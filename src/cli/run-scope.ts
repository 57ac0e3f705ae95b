// The flags `audit` and `resign` share to pick the runs they look at: --namespace / --all-namespaces, --since,
// and --kubeconfig; and the NAMESPACE/NAME argument of `payload`, `signature` and `verify-run`. One place, so
// every command accepts and rejects exactly the same names — before any URL is built from them — and loads a
// kubeconfig the same way.
import { loadKubeConfig } from '../kube/client.js';
import { messageOf } from '../errors.js';
import { namespaceProblem, objectNameProblem } from '../kube/names.js';
import { escapeTerminal } from '../text/terminal.js';
import { Cluster } from '../audit/cluster.js';
import { parseDuration } from '../audit/duration.js';
import { CliError } from './errors.js';

/** The parseFlags options of the run scope (spread them into a command's own options). */
export const RUN_SCOPE_FLAGS = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  since: { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
} as const;

interface ScopeValues {
  namespace?: string;
  'all-namespaces'?: boolean;
  since?: string;
  kubeconfig?: string;
  context?: string;
  /** `audit`'s --system-namespace, checked here with the other names */
  'system-namespace'?: string;
}

/**
 * Rejects positionals, --namespace with --all-namespaces, and namespaces that are not DNS-1123 labels;
 * returns --since in seconds (undefined: no limit).
 */
export function checkScopeFlags(values: ScopeValues, positionals: string[]): number | undefined {
  if (positionals.length > 0) throw new CliError(`unexpected argument "${show(positionals[0]!)}"`);
  if (values.namespace !== undefined && values['all-namespaces'])
    throw new CliError('give --namespace or --all-namespaces, not both');
  if (values.namespace !== undefined) checkNamespace(values.namespace, '--namespace');
  if (values['system-namespace'] !== undefined) checkNamespace(values['system-namespace'], '--system-namespace');
  if (values.since === undefined) return undefined;
  const sinceSeconds = parseDuration(values.since);
  if (sinceSeconds === undefined) {
    throw new CliError(`--since "${show(values.since)}" is not a duration like 30m, 24h or 7d`);
  }
  return sinceSeconds;
}

/** Throws a CliError (exit 2) naming `source` unless `ns` is a valid namespace. */
export function checkNamespace(ns: string, source: string): string {
  const problem = namespaceProblem(ns);
  if (problem) throw new CliError(`${source} "${show(ns)}" ${problem}`);
  return ns;
}

/**
 * The run a `NAMESPACE/NAME` (or `NAME` with --namespace) argument names, both checked as Kubernetes names.
 * `defaultNamespace` undefined: the argument must carry its namespace.
 */
export function parseRunTarget(
  target: string,
  namespaceFlag: string | undefined,
  defaultNamespace: string | undefined,
): { namespace: string; name: string } {
  if (namespaceFlag !== undefined) checkNamespace(namespaceFlag, '--namespace');
  const parts = target.split('/');
  if (parts.length > 2 || (parts.length === 1 && namespaceFlag === undefined && defaultNamespace === undefined)) {
    throw new CliError(`"${show(target)}" is not NAMESPACE/NAME`);
  }
  const [namespace, name] =
    parts.length === 2 ? [parts[0]!, parts[1]!] : [namespaceFlag ?? defaultNamespace!, parts[0]!];
  if (parts.length === 2) {
    const problem = namespaceProblem(namespace);
    if (problem) throw new CliError(`NAMESPACE/NAME "${show(target)}": the namespace "${show(namespace)}" ${problem}`);
  }
  const problem = objectNameProblem(name);
  if (problem) throw new CliError(`NAMESPACE/NAME "${show(target)}": the run name "${show(name)}" ${problem}`);
  return { namespace, name };
}

/**
 * What a command talks to the cluster with, built from --kubeconfig (else $KUBECONFIG, else in-cluster). A kubeconfig
 * that cannot be loaded or used is a CliError (exit 2): "cannot load <article> kubeconfig: …".
 */
export function fromKubeconfig<T>(
  values: { kubeconfig?: string; context?: string },
  connect: (connection: ReturnType<typeof loadKubeConfig>) => T,
): T {
  try {
    return connect(loadKubeConfig(values.kubeconfig, values.context));
  } catch (err) {
    throw new CliError(`cannot load the kubeconfig: ${messageOf(err)}`);
  }
}

/** The cluster of --kubeconfig (else $KUBECONFIG, else in-cluster) and the namespace in scope (undefined: all). */
export function connectScope(values: ScopeValues): { cluster: Cluster; namespace: string | undefined } {
  const cluster = fromKubeconfig(values, (connection) => new Cluster(connection));
  const namespace = values['all-namespaces']
    ? undefined
    : (values.namespace ?? cluster.connection.namespace ?? 'default');
  if (namespace !== undefined && values.namespace === undefined) {
    checkNamespace(namespace, "the kubeconfig context's namespace");
  }
  return { cluster, namespace };
}

function show(s: string): string {
  const e = escapeTerminal(s);
  return e.length > 100 ? `${e.slice(0, 100)}…` : e;
}
