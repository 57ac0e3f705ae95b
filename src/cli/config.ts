// `chainsmith config check FILE`: validates a chains-config exactly as the controller will read it and prints
// the effective configuration, so a bad value is caught before it reaches the cluster.
import { enabledArtifactTypes, parseChainsConfig, readConfigData, unknownConfigKeys } from '../config/parse.js';
import type { ChainsConfig } from '../config/types.js';
import { ChainsmithError } from '../errors.js';
import { escapeTerminal, escapeTerminalText } from '../text/terminal.js';
import { parseFlags } from './args.js';
import { CliError } from './errors.js';
import { safeJson } from './output.js';

export const help = `Usage: chainsmith config check [--json] FILE

Validates a chains-config: a ConfigMap manifest (YAML or JSON, kind: ConfigMap with data; in a file of
several manifests, the ConfigMap named chains-config) or a plain map of keys to string values. Prints
"ok" and a summary of the effective configuration (enabled artifact types, formats, storage, signers,
transparency, builder id); unknown keys are reported as warnings on stderr (Tekton Chains ignores them,
so a typo silently keeps the default).

Flags:
  --json      print the full effective configuration as JSON instead of "ok" and the summary
  -h, --help  show this help

Exit status: 0 when valid, 2 when the file cannot be read or a value is invalid (the error names the
key, the bad value and the accepted values).`;

function artifactLine(config: ChainsConfig, type: 'taskrun' | 'pipelinerun' | 'oci', enabled: boolean): string {
  const a = config.artifacts[type];
  const storage = a.storage.length === 0 ? '"" (disabled)' : a.storage.join(',');
  const deep =
    type === 'pipelinerun' ? `, deep inspection ${config.artifacts.pipelinerun.deepInspection ? 'on' : 'off'}` : '';
  return (
    `  ${type.padEnd(12)} ${enabled ? 'enabled ' : 'disabled'}  ` +
    `format ${a.format}, storage ${storage}, signer ${a.signer}${deep}`
  );
}

/** The human summary printed after `ok`. Never prints secret values (kms token is shown as set/unset). */
export function summarise(config: ChainsConfig): string {
  const enabled = new Set(enabledArtifactTypes(config));
  const x509 = config.signers.x509;
  const kms = config.signers.kms;
  const x509Source = x509.fulcioEnabled
    ? `fulcio ${x509.fulcioAddress} (issuer ${x509.fulcioIssuer})`
    : 'key from the signing-secrets Secret';
  const tlog = config.transparency.enabled
    ? `on${config.transparency.manual ? ' (manual, annotation-gated)' : ''}, ${config.transparency.url}`
    : 'off';
  const usedSigners = new Set(
    (['taskrun', 'pipelinerun', 'oci'] as const).filter((t) => enabled.has(t)).map((t) => config.artifacts[t].signer),
  );
  const lines = [
    'artifacts:',
    ...(['taskrun', 'pipelinerun', 'oci'] as const).map((t) => artifactLine(config, t, enabled.has(t))),
    'signers:',
    `  x509         ${x509Source}${usedSigners.has('x509') ? '' : ' (unused)'}`,
    `  kms          ${kms.kmsref ?? '(no signers.kms.kmsref)'}${kms.auth.token ? ', token set' : ''}` +
      `${usedSigners.has('kms') ? '' : ' (unused)'}`,
    `transparency: ${tlog}`,
    `builder.id:   ${config.builder.id}`,
    `buildtype:    ${config.buildDefinition.buildType}`,
  ];
  if (config.storage.oci.repository)
    lines.push(
      `oci storage:  ${config.storage.oci.repository}${config.storage.oci.insecure ? ' (insecure)' : ''}, ` +
        `${config.storage.oci.encodingFormat}`,
    );
  else lines.push(`oci storage:  next to each image, ${config.storage.oci.encodingFormat}`);
  if (config.filter.managedBy.length > 0) lines.push(`managed-by:   ${config.filter.managedBy.join(', ')}`);
  lines.push(
    `chainsmith:   sign-platform-images ${config.chainsmith.signPlatformImages}, ` +
      `max-retries ${config.chainsmith.maxRetries}, retry-horizon ${config.chainsmith.retryHorizonSeconds}s`,
  );
  if (kms.kmsref && usedSigners.has('kms') && !/^(hashivault|awskms|gcpkms|azurekms):\/\//.test(kms.kmsref)) {
    lines.push(
      `warning: signers.kms.kmsref "${kms.kmsref}" does not start with ` +
        'hashivault://, awskms://, gcpkms:// or azurekms://',
    );
  }
  return lines.join('\n');
}

/** Redacts secret-bearing fields before printing a config as JSON. */
function redacted(config: ChainsConfig): ChainsConfig {
  const copy = structuredClone(config);
  if (copy.signers.kms.auth.token) copy.signers.kms.auth.token = '<redacted>';
  return copy;
}

/** Runs the command; see `help`. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { json: { type: 'boolean' } });
  const [sub, ...files] = positionals;
  if (sub !== 'check')
    throw new CliError(
      sub === undefined
        ? 'missing subcommand; usage: chainsmith config check FILE'
        : `unknown subcommand "${sub}"; usage: chainsmith config check FILE`,
    );
  if (files.length !== 1)
    throw new CliError(
      files.length === 0
        ? 'missing FILE; usage: chainsmith config check FILE'
        : `expected one FILE, got ${files.length}`,
    );
  let config: ChainsConfig;
  let data: Record<string, string>;
  try {
    data = await readConfigData(files[0]!);
    config = parseChainsConfig(data);
  } catch (err) {
    if (err instanceof ChainsmithError) throw new CliError(err.message);
    throw err;
  }
  for (const { key, suggestion } of unknownConfigKeys(data)) {
    const hint = suggestion ? ` (did you mean "${suggestion}"?)` : '';
    process.stderr.write(`warning: unknown key "${escapeTerminal(key)}" is ignored${hint}\n`);
  }
  // values come from the file (builder.id, URLs …): escaped, so a config from a cluster cannot drive the terminal
  const out = values.json ? safeJson(redacted(config), 2) : `ok\n${escapeTerminalText(summarise(config))}`;
  process.stdout.write(out + '\n');
  return 0;
}
