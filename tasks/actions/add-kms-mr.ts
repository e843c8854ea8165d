import { allowlistAction, fromOption, type SendArgs } from "../lib/allowlist-action.js";

export default allowlistAction<SendArgs & { kms: string | undefined; mr: string | undefined }>("kms-mr", "add", fromOption("mr", "--mr"));
