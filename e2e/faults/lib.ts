// Shared pieces of the fault suite (docs/reliability.md): scenario sizes from the environment, a controller
// set-up of its own (namespace, SYSTEM_NAMESPACE, signing key), batches of completed TaskRuns, the tallies the
// reliability tables report, the registry's view of the cosign layout, and stop/start of the stack's daemons.
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  completeTaskRun,
  createNamespace,
  createTaskRun,
  fetchManifest,
  isAlive,
  kube,
  NAMESPACES,
  pushRandomImage,
  randomSuffix,
  stackEnv,
  startController,
  waitFor,
  type ControllerProcess,
  type PushedImage,
} from '../lib/index.js';
import { encryptCosignKey, exportPublicKeyPem } from '../../src/signing/cosign-key.js';
import { controllerArgs, writeChainsConfig } from '../lib/scenario.js';
import type { TaskRun } from '../../src/tekton/types.js';
import { TASKRUNS } from '../../src/kube/client.js';

// ---- sizes ------------------------------------------------------------------------------------------------

/** `FAULTS_FULL=1` (npm run faults) runs the full sizes; CI runs the bounded defaults. */
export const FULL = process.env.FAULTS_FULL === '1';

/** An integer knob from the environment, with the CI and the full default. */
export function knob(name: string, ci: number, full: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return FULL ? full : ci;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${raw} is not a non-negative number`);
  return n;
}

/** Test timeout for a scenario: generous for the full sizes, bounded by e2e/run.sh's per-test limit in CI. */
export function scenarioTimeoutMs(ciMs: number): number {
  return FULL ? 60 * 60_000 : ciMs;
}

// ---- secrets (the security scenario scans every log and Event for them) ------------------------------------

/** The cosign password every fault scenario's key is encrypted with; must never appear in a log or Event. */
export const FAULTS_PASSWORD = `faults-pw-${randomSuffix(6)}`;

export interface SigningKeys {
  dir: string;
  publicKeyPem: string;
  /** the PEM body (base64 lines) of the unencrypted private key, for the secret scan */
  privateKeyBody: string;
  /** the encrypted cosign.key file content */
  encryptedKey: string;
}

/** A signing-secrets dir with a fresh cosign key pair, as `cosign generate-key-pair` writes it. */
export async function signingSecrets(password = FAULTS_PASSWORD): Promise<SigningKeys> {
  const dir = await mkdtemp(join(tmpdir(), 'chainsmith-faults-'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const encryptedKey = await encryptCosignKey(privateKey, password);
  await writeFile(join(dir, 'cosign.key'), encryptedKey);
  await writeFile(join(dir, 'cosign.password'), password);
  const publicKeyPem = exportPublicKeyPem(privateKey);
  await writeFile(join(dir, 'cosign.pub'), publicKeyPem);
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const privateKeyBody = pkcs8
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'))
    .join('');
  return { dir, publicKeyPem, privateKeyBody, encryptedKey: encryptedKey.toString() };
}

// ---- where the suite leaves its evidence -------------------------------------------------------------------

/** `.stack/faults/`: controller logs (scanned by the security scenario) and measured rows (docs/reliability.md). */
export function faultsDir(): string {
  return join(stackEnv().stackDir, 'faults');
}

/** Saves a controller's whole output for the suite-wide secret scan. */
export async function saveLogs(scenario: string, controllers: ControllerProcess[]): Promise<void> {
  const dir = join(faultsDir(), 'logs');
  await mkdir(dir, { recursive: true });
  await Promise.all(controllers.map((c, i) => writeFile(join(dir, `${scenario}-${i}.log`), c.logs())));
}

/** The wrong password the bad-key scenario writes; as secret as the right one. */
export const WRONG_PASSWORD = `faults-wrong-pw-${randomSuffix(6)}`;

/** The base64 lines of a PEM block (any one of them in a log would be a leak). */
export function pemLines(pem: string): string[] {
  return pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
}

/** Keeps a scenario's test secrets (mode 0600, test-only keys) so the security scenario can scan for them. */
export async function saveSecrets(scenario: string, secrets: string[]): Promise<void> {
  const dir = join(faultsDir(), 'secrets');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, `${scenario}.json`), JSON.stringify(secrets.filter((x) => x.length >= 8)), { mode: 0o600 });
}

/** One row of a reliability table. */
export interface ResultRow {
  scenario: string;
  mode: 'ci' | 'full';
  runs: number;
  lost: number;
  duplicated: number;
  falselyMarked: number;
  failed: number;
  /** seconds from the fault ending (or the kill) until signing resumed; one entry per fault */
  recoverySeconds: number[];
  notes?: string;
}

/** Prints a row and keeps it in `.stack/faults/results/<scenario>.json` for docs/reliability.md. */
export async function recordResult(row: ResultRow): Promise<void> {
  const dir = join(faultsDir(), 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, `${row.scenario}.json`),
    JSON.stringify({ ...row, at: new Date().toISOString() }, null, 2) + '\n',
  );
  console.log(`faults result ${JSON.stringify(row)}`);
}

// ---- scenario set-up ---------------------------------------------------------------------------------------

/** Creates or replaces chains-config in `systemNs` (the shared e2e helper). */
export const writeConfig = writeChainsConfig;

export interface Scenario {
  name: string;
  ns: string;
  systemNs: string;
  keys: SigningKeys;
  /** every controller started for this scenario, in start order */
  controllers: ControllerProcess[];
  /** starts one more controller replica with the scenario's flags (and extra environment) */
  start(extraArgs?: string[], env?: Record<string, string>): Promise<ControllerProcess>;
  /** stops every controller, saves their logs, removes the key dir */
  teardown(): Promise<void>;
}

/** A namespace, a SYSTEM_NAMESPACE with chains-config, a key, and a way to start controllers scoped to them. */
export async function scenario(
  name: string,
  config: Record<string, string>,
  baseArgs: string[] = ['--leader-elect=false'],
): Promise<Scenario> {
  const ns = await createNamespace(`faults-${name}`);
  const systemNs = await createNamespace(`faults-${name}-sys`);
  const keys = await signingSecrets();
  await writeConfig(systemNs, config);
  const controllers: ControllerProcess[] = [];
  const s: Scenario = {
    name,
    ns,
    systemNs,
    keys,
    controllers,
    async start(extraArgs = [], env = {}) {
      const c = await startController(controllerArgs(ns, keys.dir, [...baseArgs, ...extraArgs]), {
        SYSTEM_NAMESPACE: systemNs,
        ...env,
      });
      controllers.push(c);
      return c;
    },
    async teardown() {
      await Promise.all(controllers.map((c) => c.stop(5_000)));
      await saveLogs(name, controllers);
      await saveSecrets(name, [FAULTS_PASSWORD, WRONG_PASSWORD, keys.privateKeyBody, ...pemLines(keys.encryptedKey)]);
      await rm(keys.dir, { recursive: true, force: true });
    },
  };
  return s;
}

// ---- runs --------------------------------------------------------------------------------------------------

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Retries an admin API call through a stack restart (the apiserver scenario creates runs while it is down). */
export async function retrying<T>(fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Pushes `n` random images (one repository each) to the stack's registry. */
export async function pushImages(n: number, prefix: string): Promise<PushedImage[]> {
  const tag = randomSuffix();
  return pool(
    Array.from({ length: n }, (_, i) => i),
    8,
    (i) => pushRandomImage(`${stackEnv().registry}/faults/${prefix}-${tag}-${i}`),
  );
}

/** A fixed, well-formed image digest for runs whose images need not exist (tekton storage only). */
export const FAKE_DIGEST = 'sha256:4d6dd704ef58cb214dd826519929e92a978a57cdee43693006139c0080fd6fac';

/** Creates and completes one TaskRun that built `image` (IMAGE_URL/IMAGE_DIGEST results). */
export async function buildRun(
  ns: string,
  image: { repository: string; digest: string },
  metadata: TaskRun['metadata'] = {},
): Promise<string> {
  const tr = await retrying(() => createTaskRun(ns, { metadata }));
  const name = tr.metadata.name!;
  await retrying(() =>
    completeTaskRun(ns, name, {
      results: [
        { name: 'IMAGE_DIGEST', type: 'string', value: image.digest },
        { name: 'IMAGE_URL', type: 'string', value: image.repository },
      ],
    }),
  );
  return name;
}

/** The TaskRuns of a namespace (one list call). */
export async function listRuns(ns: string): Promise<TaskRun[]> {
  return (await kube().list<TaskRun>(TASKRUNS, ns)).items;
}

export interface Tally {
  total: number;
  signed: number;
  failed: number;
  unsigned: number;
  /** runs that still carry a chains finalizer */
  finalizers: number;
  /** runs marked signed without the evidence the mark promises (signed-at and, with tekton storage, the payload) */
  unbacked: number;
}

/** Counts how the runs of `ns` ended. */
export async function tally(ns: string, opts: { tektonStorage?: boolean } = {}): Promise<Tally> {
  const runs = await listRuns(ns);
  const t: Tally = { total: runs.length, signed: 0, failed: 0, unsigned: 0, finalizers: 0, unbacked: 0 };
  for (const r of runs) {
    const a = r.metadata.annotations ?? {};
    const mark = a['chains.tekton.dev/signed'];
    if (mark === 'true') {
      t.signed++;
      const backed =
        a['chainsmith.dev/signed-at'] !== undefined &&
        (!opts.tektonStorage || a[`chains.tekton.dev/signature-taskrun-${r.metadata.uid}`] !== undefined);
      if (!backed) t.unbacked++;
    } else if (mark === 'failed') t.failed++;
    else t.unsigned++;
    if ((r.metadata.finalizers ?? []).some((f) => f.startsWith('chains.tekton.dev/'))) t.finalizers++;
  }
  return t;
}

/** Waits until every run in `ns` is marked (true or failed) and none holds our finalizer. */
export async function waitAllMarked(ns: string, expected: number, timeoutMs: number): Promise<Tally> {
  let last: Tally | undefined;
  try {
    return await waitFor(
      async () => {
        last = await retrying(() => tally(ns));
        return last.total === expected && last.unsigned === 0 && last.finalizers === 0 ? last : undefined;
      },
      { timeoutMs, intervalMs: 500, description: `all ${expected} runs in ${ns} marked` },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last tally ${JSON.stringify(last)}`);
  }
}

/** The number of `signed` log lines a controller wrote (one per signed run). */
export function signedCount(c: ControllerProcess): number {
  return c.jsonLogs().filter((l) => l.message === 'signed').length;
}

// ---- the registry's view -------------------------------------------------------------------------------------

export interface LayoutCheck {
  /** images whose `.sig` is missing */
  missingSig: number;
  /** images whose `.att` is missing */
  missingAtt: number;
  /** images whose `.sig` or `.att` holds more than one layer for the one signing (a repeated store) */
  duplicated: number;
  /** details of the duplicated ones */
  details: string[];
}

/** Reads `sha256-<hex>.sig` / `.att` of every image and counts missing and duplicated layers. */
export async function checkCosignLayout(images: PushedImage[]): Promise<LayoutCheck> {
  const out: LayoutCheck = { missingSig: 0, missingAtt: 0, duplicated: 0, details: [] };
  await pool(images, 8, async (img) => {
    const tagBase = img.digest.replace(':', '-');
    let dup = false;
    for (const suffix of ['sig', 'att'] as const) {
      const m = await fetchManifest(img.repository, `${tagBase}.${suffix}`);
      if (!m) {
        if (suffix === 'sig') out.missingSig++;
        else out.missingAtt++;
        continue;
      }
      const layers = (m.json.layers as Array<{ digest: string }> | undefined) ?? [];
      if (layers.length !== 1) {
        dup = true;
        out.details.push(
          `${img.repository}:${tagBase}.${suffix} has ${layers.length} layers (${layers.map((l) => l.digest.slice(7, 19)).join(',')})`,
        );
      }
    }
    if (dup) out.duplicated++;
  });
  return out;
}

// ---- the stack's daemons -------------------------------------------------------------------------------------

/** One process of the shared stack (pid file in .stack/pids/), restartable with its exact command line. */
export interface StackDaemon {
  name: string;
  /** stops it (SIGTERM, SIGKILL after 20 s) and waits until it is gone */
  stop(): Promise<void>;
  /** starts it again with the same command line, environment and working directory; writes the pid file */
  start(): Promise<void>;
  /** true when its process is alive */
  alive(): boolean;
}

interface Launch {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

function readLaunch(pid: number): Launch {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((s, i, a) => s !== '' || i < a.length - 1);
  const env: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { argv, env, cwd: readlinkSync(`/proc/${pid}/cwd`) };
}

/** Sends a signal; a process that exited in the meantime (ESRCH) is what the caller wanted anyway. */
function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  return true;
}

/** A handle on `.stack/pids/<name>.pid`; the command line is captured now, while the process runs. */
export function stackDaemon(
  name: 'etcd' | 'kube-apiserver' | 'registry' | 'rekor-server' | 'fulcio' | 'rekor-v2' | 'tsa',
): StackDaemon {
  const { stackDir } = stackEnv();
  const pidFile = join(stackDir, 'pids', `${name}.pid`);
  const pidNow = () => Number(readFileSync(pidFile, 'utf8').trim());
  const launch = readLaunch(pidNow());
  return {
    name,
    alive: () => isAlive(pidNow()),
    async stop() {
      const pid = pidNow();
      if (!isAlive(pid)) return;
      signal(pid, 'SIGTERM');
      const deadline = Date.now() + 20_000;
      let killed = false;
      while (isAlive(pid)) {
        // a daemon slower than 20 s to shut down (a loaded machine) is killed, once
        if (!killed && Date.now() > deadline) killed = signal(pid, 'SIGKILL');
        await sleep(100);
      }
    },
    async start() {
      if (isAlive(pidNow())) return;
      const log = openSync(join(stackDir, 'logs', `${name}.log`), 'a');
      // detached = its own session, like up.sh's setsid: it outlives this test process
      const child = spawn(launch.argv[0]!, launch.argv.slice(1), {
        cwd: launch.cwd,
        env: launch.env,
        detached: true,
        stdio: ['ignore', log, log],
      });
      closeSync(log);
      child.unref();
      writeFileSync(pidFile, `${child.pid}\n`);
    },
  };
}

/** Waits until `url` answers 200 (each try bounded to 2 s). */
export async function answers200(url: string, description: string, timeoutMs: number): Promise<void> {
  const ok = async () =>
    (await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))?.status === 200;
  await waitFor(ok, { timeoutMs, intervalMs: 200, description });
}

/** Waits until the registry answers /v2/. */
export function registryHealthy(timeoutMs = 60_000): Promise<void> {
  return answers200(`http://${stackEnv().registry}/v2/`, 'registry /v2/', timeoutMs);
}

/** Waits until the kube-apiserver is ready (through the admin client). */
export async function apiserverReady(timeoutMs = 180_000): Promise<void> {
  // a failed list is "not yet" to waitFor
  await waitFor(async () => Boolean(await kube().list(NAMESPACES, undefined, { limit: 1 })), {
    timeoutMs,
    intervalMs: 500,
    description: 'kube-apiserver ready',
  });
}

/** Waits until etcd answers /health. */
export function etcdHealthy(timeoutMs = 60_000): Promise<void> {
  return answers200(`${stackEnv().vars.CHAINSMITH_STACK_ETCD}/health`, 'etcd /health', timeoutMs);
}

/** Reads a file or returns '' (for optional logs). */
export async function readOr(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

/** What an outage of a signing service during a burst did (`outageBurst`). */
export interface OutageResult {
  /** the tally when the service came back */
  during: Tally;
  /** the tally once every run is marked */
  final: Tally;
  /** runs marked signed while the service was down (after in-flight runs had landed) */
  signedWhileDown: number;
  /** most runs marked failed at any one time, sampled throughout */
  failedSeen: number;
  downSeconds: number;
  /** service back → every run marked */
  recoverySeconds: number;
}

/**
 * A burst of `images.length` runs with `daemon` stopped in its middle: half the runs complete and a few are signed,
 * the daemon stops (runs in flight get 3 s to land), the other half complete while it is down, it stays down for
 * `outageSeconds` and comes back (`healthy` waits for it); then every run must be marked. Marks are sampled all
 * along, so a `failed` mark or a run signed during the outage cannot hide.
 */
export async function outageBurst(
  ns: string,
  daemon: StackDaemon,
  images: Array<{ repository: string; digest: string }>,
  opts: { outageSeconds: number; healthy: () => Promise<void> },
): Promise<OutageResult> {
  let failedSeen = 0;
  let watching = true;
  let signedWhileDown = 0;
  let down = false;
  let baseline = 0;
  const watcher = (async () => {
    while (watching) {
      const t = await tally(ns).catch(() => undefined);
      if (t) {
        failedSeen = Math.max(failedSeen, t.failed);
        if (down) signedWhileDown = Math.max(signedWhileDown, t.signed - baseline);
      }
      await sleep(300);
    }
  })();
  try {
    const firstHalf = Math.floor(images.length / 2);
    await pool(images.slice(0, firstHalf), 4, (img) => buildRun(ns, img));
    await waitFor(async () => (await tally(ns)).signed >= Math.min(3, firstHalf), {
      timeoutMs: 60_000,
      description: 'a few runs signed',
    });
    await daemon.stop();
    const downAt = Date.now();
    // runs that had everything they needed from the daemon may still get their mark: let them land first
    await sleep(3_000);
    baseline = (await tally(ns)).signed;
    down = true;
    await pool(images.slice(firstHalf), 4, (img) => buildRun(ns, img));
    await sleep(Math.max(0, opts.outageSeconds * 1000 - (Date.now() - downAt)));
    const during = await tally(ns);
    down = false;
    await daemon.start();
    await opts.healthy();
    const upAt = Date.now();
    const final = await waitAllMarked(ns, images.length, FULL ? 20 * 60_000 : 180_000);
    return {
      during,
      final,
      signedWhileDown,
      failedSeen: Math.max(failedSeen, final.failed),
      downSeconds: (upAt - downAt) / 1000,
      recoverySeconds: (Date.now() - upAt) / 1000,
    };
  } finally {
    watching = false;
    await watcher;
  }
}
