// npm run bench [-- --quick] [--arms a,b] [--workloads burst,backlog] [--configs 1,2,3,4,5,6,7,8] [--profile] [--no-build]
// Runs chainsmith side by side with Tekton Chains (and a ceiling client) on fresh stacks, one
// arm after the other, and writes bench/RESULTS.md. The last stdout line is the throughput ratio.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { ARMS } from './arms/index.js';
import type { ArmName } from './arms/types.js';
import { CHAINSMITH_MAIN } from './arms/chainsmith.js';
import { HarnessApi } from './lib/api.js';
import { ImagePusher } from './lib/images.js';
import { startDelayProxy } from './lib/rekor-delay.js';
import { mapLimit } from './lib/pool.js';
import { fakeImage } from './lib/runs.js';
import { ensureSigningKey, writeChainsConfig, writeIdentityToken } from './lib/setup.js';
import { downStack, freshStack, REPO_ROOT, type BenchStack } from './lib/stack.js';
import { fulcioRequestsPerRun } from './measure/fulcio.js';
import { rekorRequestsPerRun } from './measure/rekor.js';
import { FULL, plan, QUICK } from './plan.js';
import { policiesConfigName, ratioLine, replicaConfigName, writeResults, type Row } from './report.js';
import { backlog } from './workloads/backlog.js';
import { burst } from './workloads/burst.js';
import { pipelines } from './workloads/pipelines.js';
import { policies } from './workloads/policies.js';
import { replicas } from './workloads/replicas.js';
import type { WorkloadContext, WorkloadName, WorkloadResult } from './workloads/types.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    arms: { type: 'string' },
    workloads: { type: 'string' },
    configs: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(`Usage: npm run bench [-- OPTIONS]

Runs Tekton Chains (defaults and tuned), chainsmith (defaults) and a ceiling client one after the other,
each on a fresh local stack, and writes a results table. The last stdout line is the throughput ratio.

  --quick              short sizes (burst 200, backlog 500 + 60 new, 20 pipelines; about 15-20 minutes)
                       instead of the full ones (burst 1000, backlog 5000 + 300 new, 100 pipelines; 1.5-2 h)
  --arms LIST          only these arms: chains-default,chains-tuned,chainsmith,chainsmith-reuse,ceiling
                       (chainsmith-reuse runs in config 4 only)
  --workloads LIST     only these workloads: burst,backlog,pipelines,replicas,policies
  --configs LIST       1 = in-toto + tekton storage, 2 = slsa/v2alpha4 + oci storage,
                       3 = in-toto + tekton + Rekor (issue 17; burst only): config 1 with
                           transparency.enabled=true and transparency.url = the stack's own Rekor v1
                           (e2e/stack/addons/rekor-up.sh: MariaDB + Trillian + rekor-server, binaries cached in
                           ~/.cache/chainsmith/bin), one attestation entry per run; the table adds Rekor requests
                           per run (from rekor-server's request log) and rekor-server's POST latency. Typical:
                           --quick --configs 3 --out bench/RESULTS-transparency.md (about 4 minutes)
                       4 = in-toto + tekton + keyless (issue 18; burst only): config 3 signed keylessly, the
                           same Fulcio and Rekor for every arm: signers.x509.fulcio.enabled=true,
                           signers.x509.fulcio.address = the stack's Fulcio (e2e/stack/addons/fulcio-up.sh, run
                           after rekor-up.sh: a file CA, the stack's kube-apiserver as its one kubernetes OIDC
                           issuer, no CT log), signers.x509.fulcio.issuer = that issuer, and
                           signers.x509.identity.token.file = $BENCH_DIR/keyless/oidc-token, a TokenRequest token
                           (audience sigstore, 1 h) of the ServiceAccount tekton-chains/tekton-chains-controller.
                           Arms: Chains default and tuned (a certificate per run), chainsmith (a certificate per
                           signed object), chainsmith-reuse (chainsmith.keyless.reuse-certificate=true: one
                           certificate for ~8 minutes) and a keyless ceiling (a certificate per run, chainsmith's
                           KeylessSigner). The table adds Fulcio requests and certificates per run (Fulcio's own
                           /metrics) and Rekor's columns. Typical:
                           --quick --configs 4 --workloads burst --out bench/RESULTS-keyless.md (about 3-4 minutes)
                       5 = in-toto + tekton + Rekor v2 + TSA (issue 20; burst, chainsmith only: Chains cannot
                           write to Rekor v2): config 3 with chainsmith.signing-config = the stack's signing config
                           (e2e/stack/addons/sigstore2-up.sh: rekor-tiles and a timestamp authority), so each
                           signature is a Rekor v2 entry plus an RFC 3161 timestamp; notes add Rekor v2 entries
                           per run and rekor-tiles + TSA CPU. Compare with config 3's chainsmith arm:
                           --quick --configs 3,5 --arms chainsmith --workloads burst --out bench/RESULTS-rekor-v2.md
                       6 = in-toto + tekton, replicas (issue 23; chainsmith only, workload replicas): the burst
                           signed by 1, then 2, then 3 chainsmith replicas sharing buckets: "3"
                           (tekton-chains-config-leader-election, default Lease timings) on one stack; the table
                           adds API writes per run, Lease requests (API server and the replicas'
                           chainsmith_lease_requests_total) and ratios vs 1 replica. Typical:
                           --quick --configs 6 --out bench/RESULTS-replicas.md (about 2 minutes; 6,7 about 3.5)
                       7 = slsa/v2alpha4 + oci, replicas: config 2 with 1, 2 and 3 replicas, as config 6
                       8 = in-toto + tekton, signing policies (issue 24; chainsmith only, workload policies): the
                           burst spread over 20 namespaces, signed on one stack first under chains-config alone
                           (single-config), then with 20 SigningPolicies per namespace (19 select none of the
                           runs, 1 all of them), each namespace with its own x509.pem Secret, grant and builder
                           id; the table adds the ratio policies/single-config, API writes and Secret reads per
                           run, and the harness checks every run was signed by its tenant key. Typical:
                           --quick --configs 8 --out bench/RESULTS-policies.md (about 1 minute)
  --out FILE           where to write the table (default bench/RESULTS.md)
  --profile            run chainsmith with --cpu-prof and --heapsnapshot-signal=SIGUSR2
  --no-build           do not run tsc first (use the existing dist/)
  -h, --help           this text

Environment:
  BENCH_DIR                work directory (default /tmp/chainsmith-bench)
  CHAINS_VERSION           Tekton Chains release of the Chains arms (default v0.28.1; bench/build-chains.sh)
  BENCH_CHAINSMITH_ARGS    extra controller flags, e.g. "--workers 64" (experiments only)
  BENCH_CHAINSMITH_MAIN    a patched build of the controller (experiments only)
  BENCH_ATTESTATION_ENTRY  configs 3 and 4: intoto makes chainsmith and the ceiling upload intoto 0.0.1 entries, as
                           Chains v0.28.1 does, instead of chainsmith's default dsse 0.0.1
  BENCH_REKOR_DELAY_MS     configs 3 and 4: the arms reach Rekor through a proxy that holds each request this long,
                           like a distant public log (experiments only)
  BENCH_POLICIES_FIRST     config 8: run the policies arm before the single-config arm (order experiments)
`);
  process.exit(0);
}
const quick = values.quick!;
const sizes = quick ? QUICK : FULL;
const WORK = process.env.BENCH_DIR ?? '/tmp/chainsmith-bench';
const STACK_DIR = join(WORK, 'stack');
const LOG_DIR = join(WORK, 'logs', new Date().toISOString().replace(/[:.]/g, '-'));
/** Config 4: the controller's ServiceAccount token (what a projected token volume holds), written per fresh stack. */
const TOKEN_FILE = join(WORK, 'keyless', 'oidc-token');
const log = (msg: string): void =>
  void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const onlyArms = values.arms?.split(',') as ArmName[] | undefined;
const onlyWorkloads = values.workloads?.split(',') as WorkloadName[] | undefined;
const onlyConfigs = values.configs?.split(',').map(Number);

async function build(): Promise<void> {
  if (values['no-build']) return;
  log('npm run build (tsc)');
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO_ROOT, timeout: 600_000 }).catch(
    (err: Error & { stdout?: string }) => {
      // Other files of the shared checkout may be mid-edit; tsc still emits, so go on if the entry point exists.
      log(`tsc reported errors (continuing with what it emitted): ${(err.stdout ?? err.message).split('\n')[0]}`);
    },
  );
  if (!existsSync(CHAINSMITH_MAIN)) throw new Error(`${CHAINSMITH_MAIN} missing after the build`);
}

async function main(): Promise<void> {
  mkdirSync(LOG_DIR, { recursive: true });
  ensureSigningKey();
  await build();
  const started = new Date();
  const rows: Row[] = [];
  // --configs 1 = in-toto + tekton, 2 = slsa/v2alpha4 + oci, 3 = in-toto + tekton + Rekor, 4 = … + keyless
  const steps = plan(quick).filter(
    (s) => (!onlyArms || onlyArms.includes(s.arm)) && (!onlyConfigs || onlyConfigs.includes(s.config.id)),
  );
  for (const step of steps) {
    const arm = ARMS[step.arm];
    const workloads = step.workloads.filter((w) => !onlyWorkloads || onlyWorkloads.includes(w));
    if (workloads.length === 0) continue;
    const addons = [...(step.config.rekor ? ['Rekor'] : []), ...(step.config.fulcio ? ['Fulcio'] : [])];
    log(`${step.config.name} / ${arm.name}: fresh stack${addons.length ? ` with ${addons.join(' and ')}` : ''}`);
    let stack: BenchStack;
    try {
      stack = await freshStack(STACK_DIR, {
        rekor: step.config.rekor ?? false,
        fulcio: step.config.fulcio ?? false,
        sigstore2: step.config.sigstore2 ?? false,
      });
    } catch (err) {
      // e.g. Rekor could not start: record it for this step's rows and go on with the others
      const error = (err as Error).message;
      log(`  failed: ${error}`);
      for (const w of workloads) rows.push({ config: step.config.name, arm: arm.name, workload: w, error });
      await downStack(STACK_DIR);
      continue;
    }
    const api = new HarnessApi(stack.kubeconfig, stack.kubectl);
    const delay = Number(process.env.BENCH_REKOR_DELAY_MS ?? 0);
    const proxy = stack.rekor && delay > 0 ? await startDelayProxy(stack.rekor.url, delay) : undefined;
    // the arms see the proxy; the meter still reads rekor-server's own log and tree
    const tlogUrl = proxy?.url ?? stack.rekor?.url;
    if (proxy) log(`  Rekor behind a ${delay} ms delay proxy at ${proxy.url}`);
    try {
      const rekorUrl: Record<string, string> = tlogUrl ? { 'transparency.url': tlogUrl } : {};
      // keyless: the controller's ServiceAccount token where a projected token volume would put it, and the keys
      // that point both controllers at this stack's Fulcio and at that token (a fresh stack: a fresh token)
      // (config 5 runs Fulcio for its trust files only and signs with the key)
      const fulcio = step.config.data['signers.x509.fulcio.enabled'] === 'true' ? stack.fulcio : undefined;
      const keyless = fulcio ? { fulcioUrl: fulcio.url, tokenFile: TOKEN_FILE } : undefined;
      if (keyless) await writeIdentityToken(api.client, TOKEN_FILE);
      const fulcioKeys: Record<string, string> = fulcio
        ? {
            'signers.x509.fulcio.address': fulcio.url,
            'signers.x509.fulcio.issuer': fulcio.issuer,
            'signers.x509.identity.token.file': TOKEN_FILE,
          }
        : {};
      // config 5: the stack's signing config (Rekor v2 and the TSA) instead of transparency.url
      const signingConfig: Record<string, string> = stack.sigstore2
        ? { 'chainsmith.signing-config': stack.sigstore2.signingConfig }
        : {};
      await writeChainsConfig(api.client, {
        ...step.config.data,
        ...rekorUrl,
        ...fulcioKeys,
        ...signingConfig,
        ...arm.chainsConfig,
      });
      let n = 0;
      const prefix = step.config.realImages
        ? 'oci'
        : step.config.sigstore2
          ? 'rekor-v2'
          : fulcio
            ? 'keyless'
            : step.config.rekor
              ? 'rekor'
              : 'tekton';
      const ctx: WorkloadContext = {
        api,
        arm,
        timeoutMs: sizes.timeoutMs,
        log,
        ...(stack.rekor ? { rekor: stack.rekor } : {}),
        ...(fulcio ? { fulcio } : {}),
        ...(stack.sigstore2 ? { sigstore2: stack.sigstore2 } : {}),
        serverPids: [stack.apiserverPid, stack.etcdPid],
        startArm: () => ctx.startArmWith({}),
        startArmWith: (extra) => {
          const logFile = join(LOG_DIR, `${prefix}-${arm.name}-${++n}.log`);
          const nodeFlags =
            values.profile && arm.name === 'chainsmith'
              ? ['--cpu-prof', `--cpu-prof-dir=${LOG_DIR}`, '--heapsnapshot-signal=SIGUSR2']
              : [];
          return arm.start({
            stack,
            logFile,
            nodeFlags,
            oci: step.config.realImages,
            ...(tlogUrl ? { tlogUrl } : {}),
            ...(keyless ? { keyless } : {}),
            ...extra,
          });
        },
        images: async (ns, count) => {
          if (!step.config.realImages)
            return Array.from({ length: count }, (_, i) => fakeImage(stack.registry, `${ns}-${i}`));
          const pusher = new ImagePusher(stack.registry, `bench/${ns}`);
          log(`pushing ${count} images to ${stack.registry}/bench/${ns}`);
          return mapLimit(Array.from({ length: count }), 16, () => pusher.push());
        },
      };
      for (const w of workloads) {
        log(`${step.config.name} / ${arm.name} / ${w}`);
        if (w === 'policies') {
          // one row per arm (single-config, policies), both on this stack
          try {
            for (const r of await policies(ctx, sizes.burst)) {
              const k = r.policies!;
              log(
                `  ${k.arm}: ${r.signed}/${r.runs} signed, ${r.throughput.toFixed(2)} runs/s, p95 ${r.latency.p95.toFixed(2)}s, ` +
                  `${r.cpuSecondsPerRun.toFixed(4)} CPU s/run, ${r.apiRequestsPerRun.toFixed(1)} req/run, ` +
                  `${k.writesPerRun.toFixed(2)} writes/run, ${k.secretReadsPerRun.toFixed(3)} Secret GETs/run` +
                  (r.timedOut ? ' (TIMED OUT)' : ''),
              );
              rows.push({ config: policiesConfigName(step.config.name, k.arm), arm: arm.name, workload: w, result: r });
            }
          } catch (err) {
            const error = (err as Error).message;
            log(`  failed: ${error}`);
            rows.push({ config: step.config.name, arm: arm.name, workload: w, error });
          }
          continue;
        }
        if (w === 'replicas') {
          // one row per replica count (1, 2, 3), all on this stack
          try {
            for (const r of await replicas(ctx, sizes.burst)) {
              const k = r.replicas?.count ?? 0;
              log(
                `  ${k} replica(s): ${r.signed}/${r.runs} signed, ${r.throughput.toFixed(2)} runs/s, ${r.cpuSecondsPerRun.toFixed(4)} CPU s/run, ` +
                  `${r.apiRequestsPerRun.toFixed(1)} req/run, ${(r.replicas?.writesPerRun ?? NaN).toFixed(2)} writes/run, ` +
                  `${(r.replicas?.leaseRequestsPerSecond ?? NaN).toFixed(2)} Lease req/s` +
                  (r.timedOut ? ' (TIMED OUT)' : ''),
              );
              rows.push({ config: replicaConfigName(step.config.name, k), arm: arm.name, workload: w, result: r });
            }
          } catch (err) {
            const error = (err as Error).message;
            log(`  failed: ${error}`);
            rows.push({ config: step.config.name, arm: arm.name, workload: w, error });
          }
          continue;
        }
        let result: WorkloadResult | undefined;
        let error: string | undefined;
        try {
          result =
            w === 'burst'
              ? await burst(ctx, sizes.burst)
              : w === 'backlog'
                ? await backlog(ctx, sizes.backlog, sizes.backlogNewRuns)
                : await pipelines(ctx, sizes.pipelines);
          log(
            `  ${result.signed}/${result.runs} signed, ${result.throughput.toFixed(2)} runs/s, p95 ${result.latency.p95.toFixed(2)}s, ` +
              `${result.cpuSecondsPerRun.toFixed(4)} CPU s/run, ${result.peakRssMiB.toFixed(0)} MiB, ${result.apiRequestsPerRun.toFixed(1)} req/run` +
              (result.fulcio ? `, ${fulcioRequestsPerRun(result.fulcio).toFixed(2)} Fulcio req/run` : '') +
              (result.rekor ? `, ${rekorRequestsPerRun(result.rekor).toFixed(2)} Rekor req/run` : '') +
              (result.timedOut ? ' (TIMED OUT)' : ''),
          );
        } catch (err) {
          error = (err as Error).message;
          log(`  failed: ${error}`);
        }
        rows.push({ config: step.config.name, arm: arm.name, workload: w, result, error });
      }
    } finally {
      api.close();
      await proxy?.close();
      await downStack(STACK_DIR);
    }
  }
  const out = values.out ?? join(REPO_ROOT, 'bench', 'RESULTS.md');
  writeResults(out, {
    rows,
    quick,
    sizes,
    started,
    finished: new Date(),
    argv: process.argv.slice(2),
    logDir: LOG_DIR,
  });
  log(`wrote ${out}; controller logs in ${LOG_DIR}`);
  process.stdout.write(ratioLine(rows) + '\n');
}

let stopping = false;
const interrupt = (): void => {
  if (stopping) return;
  stopping = true;
  log('interrupted: stopping the benchmark stack');
  void downStack(STACK_DIR).finally(() => process.exit(130));
};
process.once('SIGINT', interrupt);
process.once('SIGTERM', interrupt);

main().then(
  () => process.exit(0),
  async (err: Error) => {
    log(`error: ${err.message}`);
    await downStack(STACK_DIR);
    process.exit(1);
  },
);
