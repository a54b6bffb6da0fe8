/**
 * @alirefund/sandbox — a faithful, stateful imitation of Alipay's mapi gateway for the batch refund services
 * (refund_fastpay_by_platform_pwd / _nopwd), refund_fastpay_query and notify_verify. See README.md.
 */
export { type Sandbox, type SandboxDeps, createSandbox } from './sandbox.js';
export { LOOPBACK_HOSTS, hostName, isLoopbackHost } from './admin/guard.js';
export { DEFAULT_NOTIFY_SCHEDULE, ScheduleError, formatSchedule, parseScheduleList } from './schedule.js';
export {
  type SandboxSeed,
  type SandboxSeedInput,
  SeedError,
  type SeedProblem,
  type SeedSummary,
  parseSeed,
  sandboxSeedSchema,
} from './seed.js';
export { type Faults, noFaults } from './core.js';
export { DETAIL_CODE_ORDER } from './gateway/checks.js';
export { MAX_REFUNDS_PER_TRADE } from './processing/rules.js';
