// The linter, for what the compiler does not catch: promises left floating or passed where a
// callback's result is ignored, awaits of non-promises, unused values, and the usual slips.
// `npm test` runs it (`npm run lint`); folder layering is the layers test's job (test/house/).
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'schema/', 'node_modules/', 'oclif.manifest.json']},
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      // test/tsconfig.json covers src/, test/ and bench/.
      parserOptions: {project: './test/tsconfig.json', tsconfigRootDir: import.meta.dirname},
    },
    rules: {
      // Async without await is how a function keeps a promise-returning signature (oclif's parse,
      // undici's destroy, a runner a test hands in): the compiler already checks what it returns.
      '@typescript-eslint/require-await': 'off',
      // An empty catch is a best-effort step whose failure changes nothing (a cache, a cleanup).
      'no-empty': ['error', {allowEmptyCatch: true}],
      // `({secret, ...rest}) => rest` leaves out a field on purpose; `_name` is unused on purpose.
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', ignoreRestSiblings: true, varsIgnorePattern: '^_'}],
    },
  },
  {
    // Tests and benches read JSON that jproxy printed and poke at what it returned: typing every
    // parsed value would add casts, not checks.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // chai's property assertions: `expect(x).to.be.empty`.
      '@typescript-eslint/no-unused-expressions': 'off',
      // execFile's callback error is an Error that @types/node types as a plain object.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['bin/**/*.js', '**/*.cjs'],
    languageOptions: {sourceType: 'commonjs'},
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
)
