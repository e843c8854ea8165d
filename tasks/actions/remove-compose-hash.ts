import { allowlistAction, type SendArgs } from "../lib/allowlist-action.js";
import { collectComposeHashes, type ComposeSourceArgs } from "../lib/compose-args.js";

export default allowlistAction<SendArgs & ComposeSourceArgs & { app?: string }>("compose-hash", "remove", async (args) =>
  (await collectComposeHashes(args)).map((source) => source.composeHash),
);
