// `chainsmith controller` (also what runs with no command): the signing controller.
import { DEFAULT_CONFIG, parseChainsConfig } from '../config/parse.js';
import type { ChainsConfig } from '../config/types.js';
import { Controller, DEFAULT_TLOG_WORKERS } from '../controller/controller.js';
import { messageOf } from '../errors.js';
import { objectNameProblem } from '../kube/names.js';
import { createLogger } from '../observability/logger.js';
import type { Signer } from '../signing/signer.js';
import { keylessSignerFactory } from '../sigstore/keyless.js';
import { escapeTerminal } from '../text/terminal.js';
import { readPublicKeyFile } from '../verify/key.js';
import { rekorLogKey, type RekorLogKey } from '../verify/tlog.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { checkNamespace, fromKubeconfig } from './run-scope.js';

export const help = `Usage: chainsmith controller [FLAGS]

Watches completed TaskRuns and PipelineRuns, signs their provenance (and the images they built), stores
the results as chains-config says, and marks each run chains.tekton.dev/signed.

Flags:
  --kubeconfig FILE            kubeconfig to use (default: $KUBECONFIG, else in-cluster)
  --context NAME               the kubeconfig context to use (default: its current-context)
  --namespace a,b              only watch these namespaces (default: all)
  --signing-secrets-dir DIR    the mounted signing-secrets Secret (default /etc/signing-secrets)
  --workers N                  runs signed in parallel (default 16)
  --tlog-workers N             more runs in parallel while transparency.enabled is on, when most of a run's time
                               is waiting for Rekor (default 48; 0 = none)
  --kube-api-qps N             client-side API request rate (default 150; env KUBE_API_QPS)
  --kube-api-burst N           client-side API burst (default 300; env KUBE_API_BURST)
  --metrics-addr ADDR          /healthz, /readyz and /metrics listen address (default :9090)
  --leader-elect=true|false    hold a Lease so only one replica signs, or with \`buckets\` > 1 in the
                               leader-election ConfigMap, a share of the bucket Leases (default true)
  --lease-name NAME            the Lease's name in SYSTEM_NAMESPACE (default chainsmith-controller); buckets
                               are NAME-bucket-<i>-of-<N>, memberships NAME-member-<identity>
  --child-wait SECONDS         how long a PipelineRun waits for a missing child TaskRun (default 30)
  --log-level LEVEL            error, warn, info or debug (default info)
  --rekor-public-key FILE      Rekor's public key PEM (default $SIGSTORE_REKOR_PUBLIC_KEY): every transparency-log
                               entry must carry a signed entry timestamp by this key, or the run is not signed
  -h, --help                   show this help

Environment: SYSTEM_NAMESPACE (default tekton-chains) holds chains-config, the leader-election ConfigMap and
the Leases; CONFIG_LEADERELECTION_NAME names that ConfigMap (default tekton-chains-config-leader-election, then
config-leader-election): \`buckets\` (1-10), \`lease-duration\`, \`renew-deadline\`, \`retry-period\`.`;

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`--${flag}: expected a positive number, got "${value}"`);
  return n;
}

function nonNegativeInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw new CliError(`--${flag}: expected a whole number ≥ 0, got "${value}"`);
  return Number(value);
}

function bool(flag: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (['true', '1', 't', 'yes'].includes(value.toLowerCase())) return true;
  if (['false', '0', 'f', 'no'].includes(value.toLowerCase())) return false;
  throw new CliError(`--${flag}: expected true or false, got "${value}"`);
}

/** Builds the KMS signer lazily so the KMS SDKs load only when a `kms` signer is configured. */
async function kmsFactory(cfg: ChainsConfig['signers']['kms']): Promise<Signer> {
  const { createKmsSigner } = await import('../signing/kms/index.js');
  return createKmsSigner(cfg);
}

/** Rekor's public key for the SET check of uploaded entries; unset or empty = no check, unreadable = exit 2. */
async function readRekorKey(path: string | undefined): Promise<RekorLogKey | undefined> {
  if (path === undefined || path === '') return undefined;
  try {
    return rekorLogKey(await readPublicKeyFile(path));
  } catch (err) {
    throw new CliError(`Rekor public key (--rekor-public-key / SIGSTORE_REKOR_PUBLIC_KEY): ${messageOf(err)}`);
  }
}

/** An object name from the environment, checked before it reaches an API path. */
function checkName(what: string, name: string): string {
  const problem = objectNameProblem(name);
  if (problem) throw new CliError(`${what} "${escapeTerminal(name)}" ${problem}`);
  return name;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    namespace: { type: 'string' },
    'signing-secrets-dir': { type: 'string' },
    workers: { type: 'string' },
    'tlog-workers': { type: 'string' },
    'kube-api-qps': { type: 'string' },
    'kube-api-burst': { type: 'string' },
    'metrics-addr': { type: 'string' },
    'leader-elect': { type: 'string' },
    'lease-name': { type: 'string' },
    'child-wait': { type: 'string' },
    'log-level': { type: 'string' },
    'rekor-public-key': { type: 'string' },
  });
  const logger = createLogger({ level: values['log-level'] ?? 'info', defaultMeta: { component: 'controller' } });
  const namespaces = (values.namespace ?? '')
    .replace(/\s+/g, '')
    .split(',')
    .filter((n) => n !== '');
  // every name that ends up in an API path is checked before the controller starts: one line, exit 2
  for (const ns of namespaces) checkNamespace(ns, '--namespace');
  const systemNamespace = checkNamespace(process.env.SYSTEM_NAMESPACE || 'tekton-chains', 'SYSTEM_NAMESPACE');
  const leaseName = values['lease-name'] ?? 'chainsmith-controller';
  const leaseProblem = objectNameProblem(leaseName);
  if (leaseProblem) throw new CliError(`--lease-name "${escapeTerminal(leaseName)}" ${leaseProblem}`);
  const rekorKey = await readRekorKey(values['rekor-public-key'] ?? process.env.SIGSTORE_REKOR_PUBLIC_KEY);
  const connection = fromKubeconfig(values, (c) => c);
  const controller = new Controller({
    connection,
    logger,
    namespaces,
    systemNamespace,
    signingSecretsDir: values['signing-secrets-dir'] ?? '/etc/signing-secrets',
    workers: Math.floor(positiveInt('workers', values.workers, 16)),
    tlogWorkers: nonNegativeInt('tlog-workers', values['tlog-workers'], DEFAULT_TLOG_WORKERS),
    qps: positiveInt('kube-api-qps', values['kube-api-qps'] ?? process.env.KUBE_API_QPS, 150),
    burst: Math.floor(positiveInt('kube-api-burst', values['kube-api-burst'] ?? process.env.KUBE_API_BURST, 300)),
    metricsAddr: values['metrics-addr'] ?? ':9090',
    leaderElect: bool('leader-elect', values['leader-elect'], true),
    leaseName,
    ...(process.env.CONFIG_LEADERELECTION_NAME
      ? { leaderElectionConfigName: checkName('CONFIG_LEADERELECTION_NAME', process.env.CONFIG_LEADERELECTION_NAME) }
      : {}),
    childWaitMs: positiveInt('child-wait', values['child-wait'], 30) * 1000,
    parseConfig: parseChainsConfig,
    defaultConfig: DEFAULT_CONFIG,
    kmsFactory,
    keylessFactory: keylessSignerFactory(),
    ...(rekorKey ? { rekorKey } : {}),
  });
  if (rekorKey)
    logger.info('transparency-log entries must be signed by the given Rekor key', { logID: rekorKey.logID });

  // One bad run must never take the controller down; a stray rejection is logged and work continues.
  process.on('unhandledRejection', (reason) =>
    logger.error('unhandled promise rejection', { error: messageOf(reason) }),
  );
  // An exception that escaped every handler leaves unknown state: log it and exit so Kubernetes restarts us.
  process.on('uncaughtException', (err) => {
    logger.error('uncaught exception; exiting', { error: messageOf(err), stack: err.stack });
    process.exit(1);
  });

  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      logger.info('signal received', { signal });
      controller.stop().then(resolve, (err: unknown) => {
        logger.error('shutdown failed', { error: messageOf(err) });
        resolve();
      });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  // a SIGTERM while start-up still waits for an unreachable API server must end the process too
  await Promise.race([controller.start(), stopped]);
  await stopped;
  await new Promise<void>((r) => logger.on('finish', r).end());
  return 0;
}
