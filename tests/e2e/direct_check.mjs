// Not a test: checks the codex CLI setup of the e2e suite without the gateway, by running the
// real CLI straight against the fake upstream. Usage (from tests/e2e):
//   CXP_FAKE_UPSTREAM_BINARY=../../build/tests/fake_upstream/fake-upstream node direct_check.mjs
import { describeRun, directCheckAgainstFake, makeTempDir, removeDir, requireEnv } from './support.mjs';

const rootDir = makeTempDir('cxp-e2e-direct-');
try {
  const run = await directCheckAgainstFake({ fakeBinary: requireEnv('CXP_FAKE_UPSTREAM_BINARY'), rootDir });
  console.log(describeRun(run));
  const ok = run.code === 0 && run.agentMessages.includes('pong from account one');
  console.log(ok ? 'direct check: ok' : 'direct check: FAILED');
  process.exitCode = ok ? 0 : 1;
} finally {
  removeDir(rootDir);
}
