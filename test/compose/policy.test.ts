import { expect } from "chai";

import { checkAppComposePolicy, interpolatedEnvVars, toDeterministicJson, ComposeYamlError } from "../../src/compose/index.js";

const PINNED = "nginx@sha256:6b2a6ad3a9a5e4b2a3a8d4bd8a1c2b7fbb15e2a9d1b4c3e3f2a1f5d6c7b8a9e0";

function appCompose(fields: Record<string, unknown>): string {
  return toDeterministicJson({ runner: "docker-compose", kms_enabled: true, allowed_envs: [], ...fields } as never);
}

describe("compose policy", () => {
  describe("interpolatedEnvVars", () => {
    it("finds ${NAME}, ${NAME:-default}, $NAME and names inside defaults; skips $$ escapes", () => {
      const yaml = [
        "services:",
        "  web:",
        `    image: ${PINNED}`,
        "    environment:",
        "      A: ${A}",
        "      B: ${B:-${C}}",
        "      D: $D",
        "      E: $${NOT_A_VAR} $$ALSO_NOT",
        "    command: [\"sh\", \"-c\", \"echo ${A} ${F:?required}\"]",
        "  # ${IN_A_COMMENT} is not interpolated",
      ].join("\n");
      expect(interpolatedEnvVars(yaml)).to.deep.equal(["A", "B", "C", "D", "F"]);
    });

    it("fails on YAML that does not parse (a typed error, not a guess)", () => {
      expect(() => interpolatedEnvVars("services: [unclosed")).to.throw(ComposeYamlError);
    });
  });

  describe("checkAppComposePolicy", () => {
    it("a pinned, KMS-governed app-compose whose variables are all allowed has no warnings", () => {
      const report = checkAppComposePolicy(appCompose({ allowed_envs: ["TOKEN"], docker_compose_file: `services:\n  web:\n    image: ${PINNED}\n    environment:\n      T: \${TOKEN}\n` }));
      expect(report).to.deep.include({ allImagesPinned: true, kmsEnabled: true, undeclaredEnvs: [], warnings: [] });
    });

    it("warns about unpinned images, kms_enabled false and variables outside allowed_envs", () => {
      const report = checkAppComposePolicy(
        appCompose({ kms_enabled: false, allowed_envs: ["TOKEN"], docker_compose_file: "services:\n  web:\n    image: nginx:latest\n    environment:\n      T: ${TOKEN}\n      S: ${SECRET}\n" }),
        "x.json",
      );
      expect(report.allImagesPinned).to.equal(false);
      expect(report.kmsEnabled).to.equal(false);
      expect(report.undeclaredEnvs).to.deep.equal(["SECRET"]);
      expect(report.warnings).to.have.length(3);
      expect(report.warnings[0]).to.match(/^service web: image nginx:latest is not pinned by @sha256 digest/);
      expect(report.warnings[1]).to.match(/^kms_enabled is false/);
      expect(report.warnings[2]).to.match(/^the compose file uses \$\{SECRET\}, which allowed_envs does not list/);
    });

    it("key_provider decides over kms_enabled, as in the guest", () => {
      const compose = `services:\n  web:\n    image: ${PINNED}\n`;
      expect(checkAppComposePolicy(appCompose({ kms_enabled: false, key_provider: "kms", docker_compose_file: compose })).kmsEnabled).to.equal(true);
      expect(checkAppComposePolicy(appCompose({ kms_enabled: true, key_provider: "local", docker_compose_file: compose })).kmsEnabled).to.equal(false);
    });
  });
});
