// vitest globalSetup (registered in /vitest.config.ts): starts one throwaway PostgreSQL for the whole run and hands
// its URL to the test workers through ALIREFUND_TEST_PG_URL, so every suite shares one cluster instead of
// starting its own. Does nothing when the URL is already set (CI started one with scripts/pg-throwaway.sh) or
// PostgreSQL is not under test.
import { dialectsUnderTest, startThrowawayPostgres, TEST_PG_URL_ENV } from '../src/testing.js';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env[TEST_PG_URL_ENV] || !dialectsUnderTest().includes('postgres')) return undefined;
  const started = Date.now();
  const cluster = await startThrowawayPostgres();
  process.env[TEST_PG_URL_ENV] = cluster.url;
  if (process.env['ALIREFUND_TEST_PG_VERBOSE']) {
    console.log(`[store] throwaway PostgreSQL at ${cluster.url} started in ${Date.now() - started} ms`);
  }
  return async () => {
    delete process.env[TEST_PG_URL_ENV];
    await cluster.stop();
  };
}
