import { allowlistAction, type SendArgs } from "../lib/allowlist-action.js";
import { collectComposeHashes } from "../lib/compose-args.js";
import type { ComposeBuildArgs, HashSourceArgs } from "../lib/compose-options.js";

export default allowlistAction<SendArgs & HashSourceArgs & ComposeBuildArgs & { app: string | undefined }>("compose-hash", "remove", async (args) =>
  (await collectComposeHashes(args)).map((source) => source.composeHash),
);
