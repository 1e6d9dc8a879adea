// typescript-eslint's recommended rules over every TypeScript and JavaScript file of the repository
// (`npm run lint`; test/repository/lint.test.ts runs it with the suite). Type-aware rules are left to
// `tsc --strict` (npm run typecheck), which already runs on every package.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/.next/**',
      '**/generated/**',
      'apps/web/src/gql/**',
      '**/*.d.ts',
      '.cache/**',
      '.demo/**',
      '.artifacts/**',
      'test-results/**',
      'tmp/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node, ...globals.browser } } },
  {
    rules: {
      // `_name` marks a binding kept for its position (a destructured field left out, an unused parameter).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Tests and benches read GraphQL answers and fixtures as untyped JSON.
    files: ['**/test/**', '**/bench/**', 'scripts/demo/**', 'scripts/arena/**', 'scripts/lib/local-platform.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
