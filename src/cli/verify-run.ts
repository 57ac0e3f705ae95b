// `chainsmith verify-run NAMESPACE/NAME`: verifies the payloads and signatures a storage backend stored for a run —
// the `tekton` annotations by default, or what `--from BACKEND` holds (read back through src/storage/read) — with the
// same checks for every backend, and the checks `verify` uses for registries.
import type { KeyObject } from 'node:crypto';
import { Cluster } from '../audit/cluster.js';
import { KubeClient, PIPELINERUNS, TASKRUNS } from '../kube/client.js';
import { messageOf } from '../errors.js';
import { configuredReaders } from '../storage/read/index.js';
import type { ReadableBackend } from '../storage/read/types.js';
import type { ChainsConfig } from '../config/types.js';
import type { Run } from '../tekton/types.js';
import { verifyRunAnnotations, type RunVerifyReport } from '../verify/run-annotations.js';
import { verifyRunFrom } from '../verify/read-back.js';
import { parseFlags } from './args.js';
import { parseFrom, readerFor, readFailure, systemNamespaceOf } from './read-from.js';
import { CliError } from './errors.js';
import { checkPublicKeyFlags, PUBLIC_KEY_FLAGS, readPublicKeyFlag } from './key-flags.js';
import { escapeTerminal as e } from '../text/terminal.js';
import { checkNamespace, fromKubeconfig, parseRunTarget } from './run-scope.js';

export const help = `Usage: chainsmith verify-run NAMESPACE/NAME [--kind taskrun|pipelinerun]
                             (--key cosign.pub | --kms REF) [--from BACKEND] [flags]

Verifies what a storage backend stored for a run: by default the "tekton" backend (the chains.tekton.dev/payload-*
and signature-* annotations, as \`tkn chain payload/signature\` read them); with --from, what another backend holds,
read back from its server with the same checks:
  run provenance (payload-taskrun-<uid>)  the signature is a DSSE envelope that verifies with the key, its payload
                                          is exactly the payload annotation, the uid is this run's, and the signed
                                          statement names this run (v1.0: runDetails.metadata.invocationId = uid;
                                          v0.2: buildType kind and buildStartedOn/FinishedOn); subjects are listed
  image signatures (payload-<12 hex>)     the raw signature verifies over the simple-signing payload, whose digest
                                          starts with the 12 hex of the key

--from reads (where and how: docs/verify.md; the settings come from the cluster's chains-config and the
controller's environment variables):
  tekton      the run's annotations (default)
  gcs         objects <kind>-<ns>-<name>/<key>.payload|.signature in storage.gcs.bucket (STORAGE_EMULATOR_HOST,
              application default credentials)
  docdb       documents <kind>-<uid> and <12 hex> in storage.docdb.url on MONGO_SERVER_URL (or the
              storage.docdb.mongo-server-url* keys)
  grafeas     occurrences of the run's notes in storage.grafeas.projectid, found by its results' subjects
  kafka       the records of storage.pubsub.topic, consumed from the earliest offset, that belong to the run
  archivista  envelopes found by the subject digests of the run's results, that name the run
  all         every backend chains-config stores this run kind in, each reported

Flags:
  --kind K           taskrun (default) or pipelinerun
  --from BACKEND     tekton (default), gcs, docdb, grafeas, kafka, archivista or all
  --system-namespace S
                     where chains-config lives (default $SYSTEM_NAMESPACE, else tekton-chains)
  --key FILE         public key PEM (cosign.pub) or certificate
  --kms REF          public key of a KMS key (hashivault://, awskms://, gcpkms://, azurekms://)
  --kubeconfig FILE  default $KUBECONFIG, else in-cluster
  --context NAME     the kubeconfig context to use (default: its current-context)
  --json             print the report as JSON

Exit status: 0 verified (--from all: by every backend), 1 not verified, nothing stored, the backend not configured
or its server unreachable, 2 bad input.
`;

/** Runs `verify-run`. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    kind: { type: 'string', default: 'taskrun' },
    ...PUBLIC_KEY_FLAGS,
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    json: { type: 'boolean' },
    from: { type: 'string' },
    'system-namespace': { type: 'string' },
  });
  if (positionals.length !== 1) throw new CliError('one NAMESPACE/NAME is required (see --help)');
  const target = parseRunTarget(positionals[0]!, undefined, undefined);
  const kind = values.kind?.toLowerCase();
  if (kind !== 'taskrun' && kind !== 'pipelinerun')
    throw new CliError(`--kind must be taskrun or pipelinerun, not "${values.kind}"`);
  const from = parseFrom(values.from, true);
  if (values['system-namespace'] !== undefined) checkNamespace(values['system-namespace'], '--system-namespace');
  checkPublicKeyFlags(values);
  let key;
  try {
    key = await readPublicKeyFlag(values);
  } catch (err) {
    throw new CliError(messageOf(err));
  }
  const { client, cluster } = fromKubeconfig(values, (connection) => ({
    client: new KubeClient(connection),
    cluster: new Cluster(connection),
  }));
  let obj: Run | undefined;
  try {
    obj = await client.get<Run>(kind === 'taskrun' ? TASKRUNS : PIPELINERUNS, target.namespace, target.name);
  } catch (err) {
    throw new CliError(`cannot read ${kind} ${positionals[0]}: ${e(messageOf(err))}`, 1);
  }
  if (!obj) throw new CliError(`${kind} ${positionals[0]} not found`, 1);
  if (from === 'tekton') return finish([verifyRunAnnotations(obj, key)], values.json === true, false);
  const systemNamespace = systemNamespaceOf(values['system-namespace']);
  const { config, note } = await cluster.chainsConfig(systemNamespace);
  const backends: ReadableBackend[] = from === 'all' ? configuredReaders(config, obj.kind) : [from];
  if (backends.length === 0)
    throw new CliError(`chains-config (namespace ${e(systemNamespace)}) stores no ${kind} signatures anywhere`, 1);
  if (note && !values.json) process.stderr.write(`chainsmith verify-run: note: ${e(note)}\n`);
  const reports: RunVerifyReport[] = [];
  for (const backend of backends) {
    if (from === 'all' && backend === 'tekton') {
      reports.push({ ...verifyRunAnnotations(obj, key), from: { backend, location: 'the run annotations' } });
      continue;
    }
    reports.push(await readBack(obj, backend, key, config, systemNamespace, from === 'all', note));
  }
  return finish(reports, values.json === true, from === 'all');
}

/** One backend's report; a backend that cannot be read fails the command, or (--from all) only its own report. */
async function readBack(
  obj: Run,
  backend: ReadableBackend,
  key: KeyObject,
  config: ChainsConfig,
  systemNamespace: string,
  all: boolean,
  note: string | undefined,
): Promise<RunVerifyReport> {
  const failed = (why: string): RunVerifyReport => ({
    run: `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`,
    kind: obj.kind,
    uid: obj.metadata.uid ?? '',
    verified: false,
    firstFailure: why,
    from: { backend, location: '' },
    entries: [],
  });
  let reader;
  try {
    reader = readerFor(backend, config, systemNamespace, note);
  } catch (err) {
    if (all && err instanceof CliError) return failed(err.message);
    throw err;
  }
  try {
    return await verifyRunFrom(obj, reader, key);
  } catch (err) {
    if (all) return failed(readFailure(reader, err));
    throw new CliError(readFailure(reader, err), 1);
  } finally {
    await reader.close?.().catch(() => undefined);
  }
}

/** Prints the reports; exit 0 when every one verified. */
function finish(reports: RunVerifyReport[], json: boolean, all: boolean): number {
  const verified = reports.every((r) => r.verified);
  if (json) {
    const out = all ? { verified, reports } : reports[0];
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return verified ? 0 : 1;
  }
  process.stdout.write(reports.map(renderRunReport).join('\n'));
  for (const r of reports) {
    if (r.verified) continue;
    const from = r.from ? ` (from ${e(r.from.backend)})` : '';
    process.stderr.write(`chainsmith verify-run: ${e(r.run)}${from}: ${e(r.firstFailure ?? '')}\n`);
  }
  return verified ? 0 : 1;
}

const MARK = { passed: 'PASS', failed: 'FAIL', skipped: 'skip' } as const;

/** The readable report. */
export function renderRunReport(r: RunVerifyReport): string {
  // annotation keys, payload fields and the run's names are the run author's: escaped (src/text/terminal.ts)
  const lines = [`${r.verified ? 'VERIFIED' : 'NOT VERIFIED'}  ${e(r.kind)} ${e(r.run)} (uid ${e(r.uid)})`];
  if (r.from) lines.push(`  from ${e(r.from.backend)}${r.from.location ? ` (${e(r.from.location)})` : ''}`);
  for (const entry of r.entries) {
    const type = `${entry.kind}${entry.predicateType ? `, ${e(entry.predicateType)}` : ''}`;
    lines.push('', `  ${entry.ok ? 'valid  ' : 'INVALID'}  ${e(entry.shortKey)}  (${type})`);
    if (entry.where) lines.push(`           read from ${e(entry.where)}`);
    for (const c of entry.checks) lines.push(`           ${MARK[c.status]}  ${e(c.name)}: ${e(c.detail)}`);
  }
  if (r.firstFailure) lines.push('', `first broken link: ${e(r.firstFailure)}`);
  return lines.join('\n') + '\n';
}
