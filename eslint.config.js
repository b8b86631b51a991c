// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'bundle/', 'coverage/', 'node_modules/'] },
  eslint.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // client-node's generated models are plain data classes (no behaviour, serialized from plain
      // objects); its own examples and docs build them as object literals.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      'no-console': 'error',
      eqeqeq: 'error',
      complexity: ['error', 12],
      'max-depth': ['error', 3],
      'max-params': ['error', 4],
    },
  },
  {
    // Tests and scripts may print and may use longer literal tables.
    files: ['test/**', 'bench/**', 'chaos/**', 'scripts/**', '**/*.test.ts'],
    rules: { 'no-console': 'off', complexity: 'off', 'max-params': 'off' },
  },
  {
    files: ['*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The Slack emulator's browser script: tsc checks its names against the DOM's types (its own
    // tsconfig.json), which ESLint's no-undef does not know.
    files: ['test/slack-emulator/web/assets/*.js'],
    rules: { 'no-undef': 'off' },
  },
);
