// Runs after `npm install` (package.json "postinstall"), with whatever Node ran npm.
//
// npm 11 skips optional dependencies whose `engines` exclude the Node that runs it. On a
// machine whose own Node is 20, that silently drops the native package of Hardhat's EDR
// runtime ("engines": {"node": ">= 22"}), and every Hardhat command then fails (HHE27).
// The `node` devDependency has installed a Node 22 binary by now; this re-runs the same
// install with it, so npm picks EDR's native package for this platform. The lock already
// lists every platform's package, so it is left unchanged. Plain JavaScript: it must run
// on Node 20 too.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

const GUARD = "DSTACK_GOVERNANCE_POSTINSTALL";
if (process.env[GUARD] === "1") process.exit(0);

const bundledNode = join(process.cwd(), "node_modules", "node", "bin", "node");
const node = existsSync(bundledNode) ? bundledNode : process.execPath;

function edrLoads() {
  const probe = spawnSync(node, ["-e", "require('@nomicfoundation/edr')"], { stdio: "ignore" });
  return probe.status === 0;
}

if (edrLoads()) process.exit(0);

const npmCli = process.env.npm_execpath;
if (npmCli === undefined || !existsSync(npmCli)) {
  console.error("postinstall: Hardhat's native EDR package is missing and npm's own path is unknown; run `npm install` again with Node >= 22 first on PATH");
  process.exit(1);
}
const npmNode = process.env.npm_node_execpath ?? "an older Node";
console.error(`postinstall: npm ran on ${npmNode} and skipped Hardhat's native EDR package; installing it with ${node}`);
const install = spawnSync(node, [npmCli, "install", "--no-audit", "--no-fund"], {
  stdio: "inherit",
  env: { ...process.env, [GUARD]: "1", PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ""}` },
});
if (install.status !== 0 || !edrLoads()) {
  console.error("postinstall: Hardhat's native EDR package could not be installed; run `npm install` again with Node >= 22 first on PATH");
  process.exit(1);
}
