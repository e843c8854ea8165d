import { allowlistAction, fromOption, type SendArgs } from "../lib/allowlist-action.js";

export default allowlistAction<SendArgs & { kms?: string; image?: string }>("os-image", "add", fromOption("image", "--image"));
