import { allowlistAction, fromOption, type SendArgs } from "../lib/allowlist-action.js";

export default allowlistAction<SendArgs & { kms?: string; device?: string }>("kms-device", "remove", fromOption("device", "--device"));
