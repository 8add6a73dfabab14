/**
 * Architecture rules, checked by `npm run depcheck` (part of `npm test`): no import cycles, no app importing
 * another app, libs never importing apps, the wire contracts and the ledger core free of frameworks.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'no-app-to-other-app',
      comment: 'Services talk only over Kafka; share code through libs/.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/([^/]+)/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-do-not-import-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'pure-libs-stay-pure',
      comment: 'contracts and the ledger core are plain TypeScript: no Nest, TypeORM or Kafka client.',
      severity: 'error',
      from: { path: '^libs/(contracts|ledger)/' },
      to: { path: 'node_modules/(@nestjs|typeorm|kafkajs|pg)/' },
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
    exclude: { path: '^(dist|node_modules|\\.cache)/' },
  },
};
