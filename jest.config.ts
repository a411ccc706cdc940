/** @jest-config-loader-options {"transpileOnly": true} */
import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: {
    '^threadkit$': '<rootDir>/lib/index.ts',
    '^threadkit/(.*)$': '<rootDir>/lib/$1',
  },
  // tsconfig.json sets isolatedModules, so ts-jest transpiles file by file (fast); `npm run typecheck` checks types.
  // Function targets travel by source text; babel/istanbul would rewrite their bodies.
  coverageProvider: 'v8',
  testTimeout: 30000,
  // A test that leaks a worker or child must fail CI, not hang it: spec/helpers/setup.ts
  // checks after every file, and CI's outer `timeout` is the last line of defence.
  setupFilesAfterEnv: ["<rootDir>/spec/helpers/setup.ts"],
};

export default config;
