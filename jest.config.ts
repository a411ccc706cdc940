/** @jest-config-loader-options {"transpileOnly": true} */
import { spawnSync } from 'node:child_process';
import type { Config } from 'jest';

/**
 * The distributed specs start their own redis-server (spec/helpers/redis.ts). On a machine without
 * one they are left out with a note, so that `npm test` works on a fresh machine; CI installs it and
 * sets THREADKIT_REQUIRE_REDIS, so there a missing server fails the run instead.
 */
const withRedis = process.env.THREADKIT_REQUIRE_REDIS === '1' || spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
if (!withRedis) {
  process.stderr.write('note: redis-server is not installed: the spec/distributed specs are skipped (Debian: apt-get install redis-server)\n');
}

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...(withRedis ? [] : ['<rootDir>/spec/distributed/'])],
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
