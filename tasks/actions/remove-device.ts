import { allowlistAction, fromOption, type SendArgs } from "../lib/allowlist-action.js";

export default allowlistAction<SendArgs & { app: string | undefined; device: string | undefined }>("device", "remove", fromOption("device", "--device"));
