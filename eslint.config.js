// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'clients/*/dist/**',
      'clients/*/gen/**',
      'test-results/**',
      'coverage/**',
      'src/gen/**',
      '.data/**',
      'node_modules/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
      'max-params': ['error', 3],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message:
            'Only the entries (src/main.ts, src/dev/main.ts) and test/scripts support read process.env; pass config instead.',
        },
      ],
      'no-restricted-exports': ['error', { restrictDefaultExports: { direct: true } }],
    },
  },
  {
    files: [
      'src/main.ts',
      'src/dev/main.ts',
      'src/telemetry/otel-bootstrap.ts',
      'test/**',
      'scripts/**',
      'clients/**',
      'bin/**',
      '*.config.*',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // The console: React's rules of hooks, and its own tsconfig (DOM, JSX).
    ...reactHooks.configs.flat['recommended-latest'],
    files: ['clients/console/**/*.{ts,tsx}'],
  },
  {
    files: [
      'test/global-setup.ts',
      'test/console/build-console.ts',
      '*.config.*',
      'clients/console/vite.config.ts',
      'eslint.config.js',
    ],
    rules: { 'no-restricted-exports': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        TextEncoder: 'readonly',
        URL: 'readonly',
        module: 'writable',
        require: 'readonly',
      },
    },
  },
  {
    files: ['test/**'],
    rules: {
      'max-params': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Type-level tests write calls that must not compile, on purpose.
    files: ['test/types/**', 'test/slow/client-packages/misuse.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
