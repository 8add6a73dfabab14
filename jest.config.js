// Three tiers: pure unit specs, integration specs on the real Postgres + Kafka broker, and the end-to-end spec
// that boots all four services. globalSetup starts the test broker and databases once for the whole run.
// Unit (`*.spec.ts`) and integration (`*.int-spec.ts`) specs sit beside the code they test; the unit pattern never
// matches an int-spec (its name ends in `-spec.ts`, not `.spec.ts`). Integration specs that span several apps stay
// in test/integration, and the e2e specs with the system they boot in test/e2e.
const moduleNameMapper = {
  '^@claimchain/(wire|config|messaging|ledger|http|testing|observability|runtime)$': '<rootDir>/libs/$1/src',
};
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }] };
const base = { testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'], moduleNameMapper, transform };
// The Kubernetes model packages the manifests' specs validate with ship ES modules only: resolved by
// jest.resolver.js and compiled to CommonJS here; no other package is transformed.
const esmPackages = 'kubernetes-models|@kubernetes-models/[^/]+|is-cidr|cidr-regex';
const unit = {
  ...base,
  resolver: '<rootDir>/jest.resolver.js',
  transform: {
    ...transform,
    [`/node_modules/(${esmPackages})/.+\\.js$`]: [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, isolatedModules: true },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages})/)`],
};

/** @type {import('jest').Config} */
module.exports = {
  // Integration and e2e specs wait on real brokers (consumer group joins take seconds); unit specs finish fast anyway.
  testTimeout: 90000,
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  projects: [
    { ...unit, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools,deploy}/**/*.spec.ts'] },
    {
      ...base,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts', '<rootDir>/test/integration/**/*.int-spec.ts'],
    },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
