/**
 * How the CLI words the library's structured errors and warnings: an error's `field` as
 * the flag the user typed, the route prefix and next-step hints added in `tasks/`, and the
 * build option appended to the compose policy warnings it fixes.
 */
import { expect } from "chai";
import { getAddress, toHex } from "viem";

import { KMS_DISABLED_WARNING, undeclaredEnvsWarning } from "../../src/compose/index.js";
import { OperationExistsError, RouteNotAuthorizedError, SafeNonceError } from "../../src/governance/errors.js";
import { InvalidInputError } from "../../src/util/errors.js";
import { checkPolicy } from "../../tasks/lib/compose-args.js";
import { flagOf, renderErrorMessage } from "../../tasks/lib/output.js";

const SAFE = getAddress("0x1111111111111111111111111111111111111111");

describe("tasks: rendering library errors for the CLI", function () {
  it("flagOf: option keys become kebab-case flags; indexes stay; joined keys map one by one; known exceptions", function () {
    expect(flagOf("app")).to.equal("--app");
    expect(flagOf("composeHash")).to.equal("--compose-hash");
    expect(flagOf("allowedEnvs[3]")).to.equal("--allowed-envs[3]");
    expect(flagOf("kmsEnabled and localKeyProviderEnabled")).to.equal("--kms-enabled and --local-key-provider");
    expect(flagOf("operation (timelock)")).to.equal("--operation (timelock)");
  });

  it("a message that starts with its field has the field replaced by the flag; one that does not is prefixed; no field, no change", function () {
    expect(renderErrorMessage(new InvalidInputError("saveAs: app-1 is taken", { field: "saveAs" }))).to.equal("--save-as: app-1 is taken");
    expect(renderErrorMessage(new InvalidInputError("at least one owner is needed", { field: "owners" }))).to.equal("--owners: at least one owner is needed");
    expect(renderErrorMessage(new SafeNonceError("safeNonce: nonce 3 was already used", { field: "safeNonce" }))).to.equal("--safe-nonce: nonce 3 was already used");
    expect(renderErrorMessage(new InvalidInputError("something else"))).to.equal("something else");
  });

  it("route refusals get the --via prefix and the route that reaches the owner; scheduled operations the --salt hint", function () {
    const refused = new RouteNotAuthorizedError(`Safe ${SAFE} is not the owner of X; the owner is Y, a Safe (2 of 3 owners)`, { route: "safe", required: { address: SAFE, kind: "safe" } });
    expect(refused.message).to.not.match(/--/);
    expect(renderErrorMessage(refused)).to.equal(`--via safe: Safe ${SAFE} is not the owner of X; the owner is Y, a Safe (2 of 3 owners): propose the change with --via safe --safe ${SAFE}`);
    const direct = new RouteNotAuthorizedError("signer A is not the owner of X; the owner is B (an EOA)", { route: "direct", required: { address: SAFE, kind: "eoa" } });
    expect(renderErrorMessage(direct)).to.equal("signer A is not the owner of X; the owner is B (an EOA): send it directly from that account (--via direct, --from)");
    const exists = new OperationExistsError(`timelock operation ${toHex(1, { size: 32 })} already exists (waiting)`);
    expect(renderErrorMessage(exists)).to.equal(`timelock operation ${toHex(1, { size: 32 })} already exists (waiting); schedule the same calls again with another --salt`);
  });

  it("compose policy: the library's warnings name no flag; the CLI appends the build option that fixes each", function () {
    expect(KMS_DISABLED_WARNING).to.not.match(/--/);
    expect(undeclaredEnvsWarning(["SECRET"])).to.not.match(/--/);
    const appCompose = JSON.stringify({
      manifest_version: 2,
      name: "x",
      runner: "docker-compose",
      docker_compose_file: "services:\n  web:\n    image: nginx:latest\n    environment:\n      S: ${SECRET}\n",
      kms_enabled: false,
      allowed_envs: [],
    });
    const report = checkPolicy({ composeHash: toHex(0, { size: 32 }), source: "x.json", bytes: new TextEncoder().encode(appCompose), notes: [] });
    expect(report.warnings).to.include(`${KMS_DISABLED_WARNING} (build with --kms-enabled)`);
    expect(report.warnings).to.include(`${undeclaredEnvsWarning(["SECRET"])} (list them with --allowed-envs)`);
    expect(report.warnings.find((warning) => warning.startsWith("service web"))).to.not.match(/--/);
  });
});
