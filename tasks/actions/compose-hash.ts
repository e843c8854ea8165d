import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";

import { InvalidInputError } from "../../src/util/errors.js";
import { buildSource, checkPolicy, readAppComposeSource, writeBuiltOut } from "../lib/compose-args.js";
import type { ComposeBuildArgs } from "../lib/compose-options.js";
import { runCommand } from "../lib/output.js";

interface Args extends ComposeBuildArgs {
  appCompose: string | undefined;
  requirePinned: boolean;
  json: boolean;
}

export default async function (args: Args, _hre: HardhatRuntimeEnvironment): Promise<void> {
  await runCommand(args.json, async () => {
    if ((args.appCompose === undefined) === (args.dockerCompose === undefined)) {
      throw new InvalidInputError("give exactly one of --app-compose FILE or --docker-compose FILE");
    }
    const source = args.appCompose !== undefined ? await readAppComposeSource(args) : await buildSource(args);
    const bytes = source.bytes!;
    const policy = checkPolicy(source);
    const ok = policy.allImagesPinned || !args.requirePinned;
    // A failed --require-pinned leaves nothing behind that could be deployed by mistake.
    const written = ok && args.out !== undefined;
    if (written) await writeBuiltOut(args, [source]);
    const label = args.out !== undefined && !written ? `${args.dockerCompose ?? args.appCompose} (built; --out not written)` : args.out === undefined && source.built === true ? `${source.source}; pass --out FILE to keep the exact bytes` : source.source;
    const unpinned = policy.images.filter((image) => image.status !== "pinned").length;
    return {
      ok,
      data: {
        composeHash: source.composeHash,
        source: label,
        bytes: bytes.length,
        out: written ? args.out : null,
        images: policy.images,
        allImagesPinned: policy.allImagesPinned,
        kmsEnabled: policy.kmsEnabled,
        undeclaredEnvs: policy.undeclaredEnvs,
        warnings: policy.warnings,
        notes: source.notes,
      },
      lines: [
        `compose hash: ${source.composeHash}`,
        `  of ${bytes.length} bytes of ${label}`,
        ...policy.images.map((image) => `  ${image.status === "pinned" ? "[pinned] " : "[MUTABLE]"} ${image.service}: ${image.image ?? "(no image)"}${image.status === "pinned" ? "" : ` — ${image.reason}`}`),
        policy.allImagesPinned ? "  every image is pinned by digest" : `  ${unpinned} image(s) are not pinned: the same compose hash can run different code${args.requirePinned ? " (--require-pinned: failing)" : ""}`,
        ...policy.warnings.filter((warning) => !warning.startsWith("service ")).map((warning) => `  warning: ${warning}`),
        ...source.notes.map((note) => `  note: ${note}`),
      ],
    };
  });
}
