import { allowlistAction, fromOption, type SendArgs } from "../lib/allowlist-action.js";

export default allowlistAction<SendArgs & { kms: string | undefined; image: string | undefined }>("os-image", "add", fromOption("image", "--image"));
