import { existsSync } from "node:fs";

import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { Hex } from "viem";

import { dstackKmsAbi } from "../../src/abi/dstack-kms.js";
import { planSetKmsInfo } from "../../src/manage/kms-settings-plan.js";
import { readFileNamedByFlag } from "../../src/util/files.js";
import { parseHexBytes, toHex } from "../../src/util/hex.js";
import type { SendArgs } from "../lib/allowlist-action.js";
import { parseAddress, requireOption } from "../lib/args.js";
import { runPlanAction } from "../lib/plan-action.js";

interface Args extends SendArgs {
  kms: string | undefined;
  k256Pubkey: string | undefined;
  caPubkey: string | undefined;
  quote: string | undefined;
  eventlog: string | undefined;
}

/** Hex given inline, or a file holding hex text or raw bytes. */
async function hexOrFile(value: string | undefined, flag: string, kind: "hex-or-file" | "file"): Promise<Hex> {
  const given = requireOption(value, flag, kind === "file" ? "a file" : "hex, or a file holding it");
  // 0x-prefixed text is hex; bare hex digits are hex only when no such file exists (a
  // quote saved as `./cafe` must be read, not taken for the two bytes 0xcafe).
  if (kind === "hex-or-file" && /^0x[0-9a-fA-F]*$/i.test(given.trim())) return toHex(parseHexBytes(given, flag));
  if (kind === "hex-or-file" && /^[0-9a-fA-F]+$/.test(given.trim()) && !existsSync(given)) return toHex(parseHexBytes(given, flag));
  const bytes = await readFileNamedByFlag(given, flag);
  const text = bytes.toString("utf8").trim();
  if (kind === "hex-or-file" && /^(0x)?[0-9a-fA-F]+$/.test(text)) return toHex(parseHexBytes(text, flag));
  return toHex(bytes);
}

export default async function (args: Args, hre: HardhatRuntimeEnvironment): Promise<void> {
  await runPlanAction(args, hre, {
    validate: async () => ({
      kms: parseAddress(args.kms, "--kms"),
      info: {
        k256Pubkey: toHex(parseHexBytes(requireOption(args.k256Pubkey, "--k256-pubkey", "hex"), "--k256-pubkey")),
        caPubkey: toHex(parseHexBytes(requireOption(args.caPubkey, "--ca-pubkey", "hex"), "--ca-pubkey")),
        quote: await hexOrFile(args.quote, "--quote", "hex-or-file"),
        eventlog: await hexOrFile(args.eventlog, "--eventlog", "file"),
      },
    }),
    plan: (client, { kms, info }) => planSetKmsInfo(client, kms, info),
    confirm: async (client, { kms, info }) => {
      const now = await client.readContract({ address: kms, abi: dstackKmsAbi, functionName: "kmsInfo" });
      const same = now[0] === info.k256Pubkey && now[1] === info.caPubkey && now[2] === info.quote && now[3] === info.eventlog;
      return { ok: same, detail: same ? "KMS info published" : "KMS info differs from what was sent" };
    },
  });
}
