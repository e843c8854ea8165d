import { allowlistAction, fromOption, type SendArgs } from "../lib/allowlist-action.js";

export default allowlistAction<SendArgs & { kms?: string; mr?: string }>("kms-mr", "remove", fromOption("mr", "--mr"));
