import { allowlistAction, fromOption, type SendArgs } from "../lib/allowlist-action.js";

export default allowlistAction<SendArgs & { app?: string; device?: string }>("device", "remove", fromOption("device", "--device"));
