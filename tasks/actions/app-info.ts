import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { readAppInfo } from "../../src/chain/app-state.js";
import { connectChain } from "../lib/connection.js";
import { parseContractRef, resolveContractRef } from "../lib/deployments.js";
import { runCommand } from "../lib/output.js";

export default async function (args: { app: string | undefined; json: boolean }, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    const appRef = parseContractRef(args.app, "--app");
    const { publicClient, chainId } = await connectChain(hre, { readOnly: true });
    const app = resolveContractRef(hre, appRef, "--app", chainId);
    const info = await readAppInfo(publicClient, app);
    const [ownerCode, pendingCode] = await Promise.all([
      publicClient.getCode({ address: info.owner }),
      info.pendingOwner === null ? undefined : publicClient.getCode({ address: info.pendingOwner }),
    ]);
    const kindOf = (code: string | undefined) => (code !== undefined && code !== "0x" ? "contract" : "EOA");
    const isZero = (a: string | null) => a === null || /^0x0{40}$/.test(a);
    return {
      ok: true,
      data: { ...info, ownerKind: kindOf(ownerCode) },
      lines: [
        `app ${info.address} on chain ${info.chainId} at block ${info.blockNumber}`,
        `  owner                 ${info.owner} (${kindOf(ownerCode)})`,
        `  pending owner         ${isZero(info.pendingOwner) ? "none" : `${info.pendingOwner} (${kindOf(pendingCode)})`}`,
        `  implementation        ${info.implementation ?? "none (not a proxy)"}`,
        `  version               ${info.version ?? "unknown"}`,
        `  allow any device      ${info.allowAnyDevice}`,
        `  require TCB UpToDate  ${info.requireTcbUpToDate ?? "not supported"}`,
        `  upgrades disabled     ${info.upgradesDisabled ?? "unknown"}`,
        `  interfaces            IAppAuth ${info.interfaces.appAuth}, basic management ${info.interfaces.basicManagement}, batch ${info.interfaces.batchManagement}`,
        ...info.warnings.map((w) => `  warning: ${w}`),
      ],
    };
  });
}
