// The apps the consumer suite generates. Each mirrors what `nest new` writes
// for its Nest major (@nestjs/schematics 11 and 12: package.json, tsconfig.json,
// Jest config), without the lint/format tooling and the Nest CLI: `tsc` builds.
// Its source is the README's minimal app, block for block.

const nestTsconfig = {
  module: 'nodenext',
  moduleResolution: 'nodenext',
  resolvePackageJsonExports: true,
  esModuleInterop: true,
  isolatedModules: true,
  declaration: true,
  removeComments: true,
  emitDecoratorMetadata: true,
  experimentalDecorators: true,
  allowSyntheticDefaultImports: true,
  target: 'ES2023',
  sourceMap: true,
  outDir: './dist',
  rootDir: './src',
  incremental: true,
};

const nest12 = {
  dependencies: {
    '@nestjs/common': '^12.0.1',
    '@nestjs/core': '^12.0.1',
    '@nestjs/platform-express': '^12.0.1',
    'reflect-metadata': '^0.2.2',
    rxjs: '^7.8.1',
  },
  devDependencies: { '@types/express': '^5.0.0', '@types/node': '^24.0.0', typescript: '^6.0.2' },
  tsconfig: {
    ...nestTsconfig,
    types: ['node'],
    strict: true,
    strictPropertyInitialization: false,
    // Off on purpose: the library's declarations must stand on their own
    // (no @types package the app did not ask for).
    skipLibCheck: false,
  },
};

export const apps = [
  {
    name: 'nest12-esm-express',
    title: 'Nest 12, ESM, Express, TypeORM 1',
    node: '22',
    type: 'module',
    ...nest12,
    install: ['nest12'],
    main: 'src/main.ts',
    // This app has neither ioredis nor pg: the errors for missing optional packages are checked here.
    missingPackages: true,
  },
  {
    name: 'nest12-esm-fastify',
    title: 'Nest 12, ESM, Fastify, TypeORM 1',
    node: '24',
    type: 'module',
    ...nest12,
    install: ['nest12'],
    // The README: "On Fastify (`npm install @nestjs/platform-fastify`)".
    extraInstall: ['@nestjs/platform-fastify'],
    main: 'src/main.ts fastify',
  },
  {
    name: 'nest11-cjs-express',
    title: 'Nest 11, CommonJS, Express, TypeORM 0.3, Jest',
    node: 'system',
    type: undefined,
    dependencies: {
      '@nestjs/common': '^11.0.1',
      '@nestjs/core': '^11.0.1',
      '@nestjs/platform-express': '^11.0.1',
      'reflect-metadata': '^0.2.2',
      rxjs: '^7.8.1',
    },
    devDependencies: {
      '@nestjs/testing': '^11.0.1',
      '@types/express': '^5.0.0',
      '@types/jest': '^30.0.0',
      '@types/node': '^24.0.0',
      '@types/supertest': '^7.0.0',
      jest: '^30.0.0',
      supertest: '^7.0.0',
      'ts-jest': '^29.2.5',
      typescript: '^5.7.3',
    },
    tsconfig: {
      ...nestTsconfig,
      baseUrl: './',
      skipLibCheck: true,
      strictNullChecks: true,
      forceConsistentCasingInFileNames: true,
      noImplicitAny: false,
      strictBindCallApply: false,
      noFallthroughCasesInSwitch: false,
    },
    // Jest as `nest new` (11) sets it up: CommonJS, ts-jest, nothing else.
    jest: {
      moduleFileExtensions: ['js', 'json', 'ts'],
      rootDir: 'src',
      testRegex: '.*\\.spec\\.ts$',
      transform: { '^.+\\.(t|j)s$': 'ts-jest' },
      collectCoverageFrom: ['**/*.(t|j)s'],
      coverageDirectory: '../coverage',
      testEnvironment: 'node',
    },
    install: ['nest11'],
    // The drivers for the store contract on PostgreSQL and MariaDB (files/token-store.contract.spec.ts).
    extraInstall: ['pg', 'mysql2'],
    main: 'src/main.ts',
    specs: ['app.module.spec.ts', 'token-store.contract.spec.ts'],
  },
];
