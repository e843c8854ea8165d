import { escapeTerminalText } from "../../src/util/terminal-text.js";
import { allowlistAction, type SendArgs } from "../lib/allowlist-action.js";
import { collectComposeHashes } from "../lib/compose-args.js";
import type { ComposeBuildArgs, HashSourceArgs } from "../lib/compose-options.js";

// The same policy checks as compose-hash run before anything touches the chain; their
// warnings go to stderr (in text and --json mode alike) so that the person allowing the
// hash reads them first, and --require-pinned refuses an unpinned app-compose outright.
export default allowlistAction<SendArgs & HashSourceArgs & ComposeBuildArgs & { app: string | undefined; requirePinned: boolean }>("compose-hash", "add", async (args) => {
  const sources = await collectComposeHashes(args, { policy: true });
  for (const source of sources) {
    for (const warning of source.policy?.warnings ?? []) console.error(escapeTerminalText(`warning: ${source.source}: ${warning}`));
    for (const note of source.notes) console.error(escapeTerminalText(`note: ${source.source}: ${note}`));
  }
  return sources.map((source) => source.composeHash);
});
