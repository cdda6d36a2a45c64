/** Layer rules: dependencies point inward (docs/development.md, "Layout"). */
module.exports = {
  forbidden: [
    {
      name: 'no-domain-to-anything',
      comment: 'The domain is pure: no npm packages, no node: built-ins, no other layer.',
      severity: 'error',
      from: { path: '^src/domain' },
      to: { pathNot: '^src/domain' },
    },
    {
      name: 'no-app-to-infra',
      comment:
        'Use cases see ports only (and the names of their spans and metrics); adapters and transports are wired in compose.ts.',
      severity: 'error',
      from: { path: '^src/app' },
      to: { pathNot: ['^src/(app|domain)', '^src/telemetry/catalogue\\.ts$', '^node_modules/zod'] },
    },
    {
      name: 'telemetry-catalogue-is-names-only',
      comment:
        'The catalogue of span, event, attribute and metric names imports nothing but the domain.',
      severity: 'error',
      from: { path: '^src/telemetry/catalogue\\.ts$' },
      to: { pathNot: '^src/domain' },
    },
    {
      name: 'no-transport-to-persistence',
      severity: 'error',
      from: { path: '^src/transports' },
      to: { path: ['^src/persistence', '^src/notify', '^src/dev', '^src/participants'] },
    },
    {
      name: 'no-adapter-to-transport',
      severity: 'error',
      from: { path: '^src/(persistence|notify|auth|crypto|dev|participants)' },
      to: { path: '^src/transports' },
    },
    {
      name: 'no-config-to-src',
      comment:
        'Configuration may use the pure domain (e.g. to reject a cyclic participant order), nothing else.',
      severity: 'error',
      from: { path: '^src/config' },
      to: { path: '^src', pathNot: ['^src/config', '^src/domain'] },
    },
    {
      name: 'mongoose-stays-in-persistence',
      comment:
        'Only adapters, the development modules and the composition root (which owns the connection) see mongoose.',
      severity: 'error',
      from: { path: '^src', pathNot: ['^src/persistence', '^src/dev/', '^src/compose\\.ts$'] },
      to: { path: '^node_modules/mongoose' },
    },
    {
      name: 'only-main-imports-compose',
      comment:
        'The entries (production main.ts, development dev/) and serve.ts, which runs what they compose.',
      severity: 'error',
      from: { path: '^src', pathNot: ['^src/main\\.ts$', '^src/serve\\.ts$', '^src/dev/'] },
      to: { path: '^src/compose\\.ts$' },
    },
    {
      name: 'production-never-imports-development',
      comment:
        'The embedded database, the dev mailbox and demo data (src/dev) are for npm start and tests; nothing the production entry reaches imports them.',
      severity: 'error',
      from: { path: '^src', pathNot: '^src/dev/' },
      to: { path: '^src/dev/' },
    },
    {
      name: 'clients-use-no-server-code',
      comment:
        "Client packages ship alone: their own generated stubs (clients/*/gen), and the tRPC router's types (never its code).",
      severity: 'error',
      from: { path: '^clients' },
      to: { path: '^src', pathNot: '^src/transports/trpc/' },
    },
    {
      name: 'clients-import-trpc-types-only',
      comment:
        "The tRPC client gets end-to-end types from the router without shipping server code; only its server-types.ts (the package's #router) reaches them.",
      severity: 'error',
      from: { path: '^clients', pathNot: '^clients/trpc/server-types\\.ts$' },
      to: { path: '^src/transports/trpc/' },
    },
    {
      name: 'server-types-are-types-only',
      severity: 'error',
      from: { path: '^clients/trpc/server-types\\.ts$' },
      to: { path: '^src', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'client-packages-by-name',
      comment:
        'A client package uses another through its package name (@account-deletion/...), never by a relative path into its folder.',
      severity: 'error',
      from: { path: '^clients/([^/]+)/' },
      to: { path: '^clients/', pathNot: '^clients/$1/', dependencyTypes: ['local'] },
    },
    {
      name: 'examples-are-clients-too',
      comment:
        'Example linked services use the SDK and the generated stubs, like any linked service.',
      severity: 'error',
      from: { path: '^examples' },
      to: { path: '^src', pathNot: '^src/gen' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    // Built packages (clients/*/dist) are build output, not code to check.
    exclude: { path: '^clients/[^/]+/dist/' },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['account-deletion-source', 'import', 'require', 'node', 'default'],
    },
  },
};
