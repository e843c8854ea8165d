import type { TimelockExecutor } from "../../src/governance/timelock-action.js";

/** `--network NAME` for the next-step hints (omitted on the default network). */
export const networkFlag = (network: string | undefined): string => (network === undefined || network === "default" ? "" : ` --network ${network}`);

/** The command that executes a timelock operation once ready, by who holds the executor role. */
export function timelockExecuteCommand(source: string, executor: TimelockExecutor, network: string | undefined): string {
  const direct = `npx hardhat timelock-execute --operation ${source}${networkFlag(network)}`;
  if (executor.kind === "signer") return direct;
  if (executor.kind === "safe") return `${direct} --via safe --safe ${executor.safe}`;
  return `${direct} (sent by an account with EXECUTOR_ROLE)`;
}
