import { allowlistAction, fromOption, type SendArgs } from "../lib/allowlist-action.js";

export default allowlistAction<SendArgs & { app?: string; device?: string }>("device", "add", fromOption("device", "--device"));
