// Lint for chainsmith: typescript-eslint's recommended rules, Prettier for layout (eslint-config-prettier turns
// off the rules it owns), and the layer rule of docs/architecture.md: src/ reads as the signing path and a folder
// may import only folders below it. `npm run lint` runs it; .ci/run fails on any error.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * The folders of src/, lowest first. A folder may import itself, `src/errors.ts` and any folder listed before it;
 * importing a folder listed after it is an error. Every folder of src/ must be listed (test/lint/layers.test.ts).
 */
export const LAYERS = [
  'text', // terminal-safe text
  'input', // bounded reading and parsing of untrusted documents
  'reference', // image references: the one grammar and parser
  'config', // chains-config
  'policy', // SigningPolicies and grants: reading, selection, overlays on chains-config, status
  'tekton', // runs: types, reading, validation, accessors, annotation keys
  'artifacts', // type hinting: one extraction per run
  'formats', // payload formats
  'signing', // signers: key files, KMS
  'oci', // a pure registry client
  'sigstore', // DSSE, cosign's layout, sigstore bundles
  'kube', // the Kubernetes API client and credentials
  'observability', // logs, metrics, Events
  'storage', // storage backends
  'verify', // verification of what storage wrote
  'pipeline', // plan, sign, store, mark one run
  'controller', // informers, queue, leader election, reconcile
  'audit', // the cluster audit
  'cli', // the command line
];

/** The no-restricted-imports rule for files of one layer: every import of a higher layer is refused. */
export function layerRule(layer) {
  const higher = LAYERS.slice(LAYERS.indexOf(layer) + 1);
  if (higher.length === 0) return ['off'];
  return [
    'error',
    {
      patterns: [
        {
          regex: `^(\\.\\./)+(${higher.join('|')})(/|$)`,
          message: `src/${layer} is below ${higher.join(', ')}: a lower layer never imports a higher one (docs/architecture.md).`,
        },
      ],
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '!eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-duplicate-imports': 'error',
      // escaping control characters for terminals and logs is a job of this code base: those regexes are meant
      'no-control-regex': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // Prettier cannot break strings and comments; the width holds for every line of the product.
      'max-len': ['error', { code: 120, tabWidth: 2, ignoreUrls: false }],
    },
  },
  {
    files: ['src/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: `^\\./(${LAYERS.join('|')})/`, message: 'src/errors.ts is below every layer.' }] },
      ],
    },
  },
  ...LAYERS.map((layer) => ({ files: [`src/${layer}/**/*.ts`], rules: { 'no-restricted-imports': layerRule(layer) } })),
);
