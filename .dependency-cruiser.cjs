/**
 * Architecture rules, checked by `npm run depcheck` (part of `npm test`): no import cycles, no app importing
 * another app, libs never importing apps, the wire contracts and the ledger core free of frameworks, payout's
 * adjudication engine free of the rest of payout, no import running back up from persistence or a repository, and
 * no production code importing a spec or a test helper.
 */
/** Specs of every tier and the test helpers. */
const TEST_CODE = [
  '\\.(spec|int-spec|e2e-spec)\\.ts$',
  '^test/',
  '^libs/testing/',
  '^libs/[^/]+/test/',
  '^tools/.+/testing/',
];

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'no-app-to-other-app',
      comment:
        "Services talk only over Kafka; share code through libs/. An app's integration specs (*.int-spec.ts, never " +
        "built) may use another app's code to make that app's messages exactly as it makes them (the ledger's " +
        'anchor notices), as they did from test/integration.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/', pathNot: '\\.int-spec\\.ts$' },
      to: { path: '^apps/([^/]+)/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-do-not-import-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'runtime-composes-the-libs',
      comment:
        'libs/runtime turns the libs into a running service (bootstrap, signals, worker threads): the libs below it ' +
        'never import it, only mains, apps and tests do.',
      severity: 'error',
      from: { path: '^libs/', pathNot: '^libs/runtime/' },
      to: { path: '^libs/runtime/' },
    },
    {
      name: 'pure-libs-stay-pure',
      comment:
        'the wire shapes (libs/wire) and the ledger core are plain TypeScript: no Nest, TypeORM or Kafka client.',
      severity: 'error',
      from: { path: '^libs/(wire|ledger)/' },
      to: { path: 'node_modules/(@nestjs|typeorm|kafkajs|pg)/' },
    },
    {
      name: 'payout-engine-stays-pure',
      comment:
        "payout's adjudication engine (adjudicate, contract definition, plan year, replay) is plain TypeScript that " +
        'the app, the replay command and the bench build on: it imports nothing else of the app, and no framework.',
      severity: 'error',
      from: { path: '^apps/payout/src/engine/' },
      to: {
        path: ['^apps/payout/src/', 'node_modules/(@nestjs|typeorm|kafkajs|pg)/'],
        pathNot: '^apps/payout/src/engine/',
      },
    },
    {
      name: 'persistence-holds-only-the-schema',
      comment:
        "An app's persistence/ keeps its migrations and data source; the SQL lives with the feature it serves, so " +
        'nothing there imports a feature.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/src/persistence/' },
      to: { path: '^apps/$1/src/', pathNot: '^apps/$1/src/persistence/' },
    },
    {
      name: 'repositories-do-not-import-use-cases',
      comment: 'A repository is SQL for its feature: it never reaches up into a service, controller or consumer.',
      severity: 'error',
      from: { path: '^apps/[^/]+/src/.+\\.repository\\.ts$' },
      to: { path: '\\.(service|controller|consumer)\\.ts$' },
    },
    {
      name: 'outside-code-uses-app-entry-points',
      comment:
        "Ops commands and benches use what an app exports from its src/index.ts, never its internals: an app's " +
        'inside can be rearranged without breaking them, and what they depend on is written down in one place.',
      severity: 'error',
      from: { path: '^(scripts|bench)/' },
      to: { path: '^apps/[^/]+/src/', pathNot: '^apps/[^/]+/src/index\\.ts$' },
    },
    {
      name: 'production-does-not-import-tests',
      comment:
        'Specs of every tier sit beside the code they test, and the test helpers in test/, libs/testing, ' +
        'libs/*/test and tools/**/testing: none of it is part of a service or command, so the code that is never ' +
        'imports it (the build leaves the specs out and would otherwise compile one back in).',
      severity: 'error',
      from: { path: '^(apps|libs|scripts|tools)/', pathNot: TEST_CODE },
      to: { path: TEST_CODE },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: ['\\.d\\.ts$', '(^|/)\\.[^/]+\\.(js|cjs|mjs|ts)$', '\\.config\\.(js|cjs|mjs|ts)$'],
      },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // node_modules is not followed but must not be excluded: excluding it drops the imports of packages, and the
    // framework rules above could never fire.
    exclude: { path: '^(dist|\\.cache)/' },
  },
};
