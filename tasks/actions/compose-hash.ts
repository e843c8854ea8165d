import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { allImagesPinned, analyzeAppComposeImages, hashAppComposeBytes, readAppComposeFile } from "../../src/compose/index.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { asFlagError, buildFromDockerCompose, type ComposeSourceArgs } from "../lib/compose-args.js";
import { runCommand } from "../lib/output.js";

interface Args extends ComposeSourceArgs {
  requirePinned: boolean;
  json: boolean;
}

export default async function (args: Args, _hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    if ((args.appCompose === undefined) === (args.dockerCompose === undefined)) {
      throw new InvalidInputError("give exactly one of --app-compose FILE or --docker-compose FILE");
    }
    let bytes: Uint8Array;
    let source: string;
    const notes: string[] = [];
    if (args.appCompose !== undefined) {
      bytes = await readAppComposeFile(args.appCompose).catch((error: unknown) => {
        throw asFlagError(error, "--app-compose");
      });
      source = args.appCompose;
    } else {
      const built = await buildFromDockerCompose(args);
      bytes = built.bytes;
      source = args.out ?? `${args.dockerCompose} (built; pass --out FILE to keep the exact bytes)`;
      if (!built.appCompose.kms_enabled) notes.push("kms_enabled is false: the CVM will not get keys from the KMS, so on-chain compose-hash governance does not apply (add --kms-enabled)");
    }
    const composeHash = hashAppComposeBytes(bytes);
    let images: ReturnType<typeof analyzeAppComposeImages>;
    try {
      images = analyzeAppComposeImages(bytes, source);
    } catch (error) {
      throw asFlagError(error, args.appCompose !== undefined ? "--app-compose" : "--docker-compose");
    }
    const pinned = allImagesPinned(images);
    const ok = pinned || !args.requirePinned;
    return {
      ok,
      data: { composeHash, source, bytes: bytes.length, images, allImagesPinned: pinned, notes },
      lines: [
        `compose hash: ${composeHash}`,
        `  of ${bytes.length} bytes of ${source}`,
        ...images.map((image) => `  ${image.status === "pinned" ? "[pinned] " : "[MUTABLE]"} ${image.service}: ${image.image ?? "(no image)"}${image.status === "pinned" ? "" : ` — ${image.reason}`}`),
        pinned ? "  every image is pinned by digest" : `  ${images.filter((i) => i.status !== "pinned").length} image(s) are not pinned: the same compose hash can run different code${args.requirePinned ? " (--require-pinned: failing)" : ""}`,
        ...notes.map((note) => `  note: ${note}`),
      ],
    };
  });
}
