import { allowlistAction, fromOption, type SendArgs } from "../lib/allowlist-action.js";

export default allowlistAction<SendArgs & { kms: string | undefined; device: string | undefined }>("kms-device", "remove", fromOption("device", "--device"));
