import { expect } from "chai";

import {
  allImagesPinned,
  analyzeAppComposeImages,
  analyzeComposeImages,
  AppComposeJsonError,
  classifyImageReference,
  ComposeYamlError,
  type ServiceImagePinning,
} from "../../src/compose/index.js";
import { DstackGovernanceError } from "../../src/util/errors.js";

const HEX64 = "0123456789abcdef".repeat(4);

function only(results: ServiceImagePinning[]): ServiceImagePinning {
  expect(results).to.have.length(1);
  return results[0] as ServiceImagePinning;
}

function thrown(fn: () => unknown): DstackGovernanceError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(DstackGovernanceError);
    return error as DstackGovernanceError;
  }
  throw new Error("expected a throw");
}

describe("image pinning analysis", () => {
  describe("classifyImageReference", () => {
    const cases: Array<[string, "pinned" | "mutable", RegExp]> = [
      [`nginx@sha256:${HEX64}`, "pinned", /^pinned by sha256 digest$/],
      [`docker.io/library/nginx@sha256:${HEX64}`, "pinned", /^pinned by sha256 digest$/],
      [`host:5000/team/img@sha256:${HEX64}`, "pinned", /^pinned by sha256 digest$/],
      [`nginx:1.25@sha256:${HEX64}`, "pinned", /tag "1.25" is ignored/],
      ["nginx:1.25", "mutable", /tag "1.25" can be re-pointed/],
      ["nginx:latest", "mutable", /tag "latest"/],
      ["nginx", "mutable", /no tag or digest/],
      ["ghcr.io/org/app", "mutable", /no tag or digest/],
      // A colon before the last slash is a registry port, not a tag.
      ["host:5000/img", "mutable", /no tag or digest/],
      ["host:5000/img:tag", "mutable", /tag "tag" can be re-pointed/],
      [`nginx@sha256:${HEX64.toUpperCase()}`, "mutable", /lowercase/],
      [`nginx@sha256:${HEX64.slice(0, 63)}`, "mutable", /63 hex digits, expected 64/],
      [`nginx@sha256:${HEX64}0`, "mutable", /65 hex digits, expected 64/],
      ["nginx@sha256:", "mutable", /0 hex digits/],
      [`nginx@sha256:${"g".repeat(64)}`, "mutable", /not hexadecimal/],
      [`nginx@sha512:${HEX64}${HEX64}`, "mutable", /"sha512" is not sha256/],
      [`nginx@${HEX64}`, "mutable", /not of the form algorithm:hex/],
      [`@sha256:${HEX64}`, "mutable", /no repository/],
      [`nginx@sha256:${HEX64}@sha256:${HEX64}`, "mutable", /more than one @/],
      ["nginx@sha256:${DIGEST}", "mutable", /interpolation/],
      ["${IMAGE}", "mutable", /interpolation/],
      ["nginx:", "mutable", /empty tag/],
      ["", "mutable", /empty/],
      ["nginx latest", "mutable", /whitespace/],
    ];
    for (const [image, status, reason] of cases) {
      it(`${JSON.stringify(image)} is ${status}`, () => {
        const verdict = classifyImageReference(image);
        expect(verdict.status).to.equal(status);
        expect(verdict.reason).to.match(reason);
      });
    }
  });

  describe("analyzeComposeImages", () => {
    it("reports every service in file order", () => {
      const yaml = [
        "services:",
        "  db:",
        `    image: postgres@sha256:${HEX64}`,
        "  api:",
        "    image: registry.example.com:5000/api:v2",
        "  worker:",
        "    build: ./worker",
        "  cache:",
        "    image: redis",
        "",
      ].join("\n");
      expect(analyzeComposeImages(yaml)).to.deep.equal([
        { service: "db", image: `postgres@sha256:${HEX64}`, status: "pinned", reason: "pinned by sha256 digest" },
        {
          service: "api",
          image: "registry.example.com:5000/api:v2",
          status: "mutable",
          reason: 'tag "v2" can be re-pointed; pin with @sha256:<digest>',
        },
        { service: "worker", image: null, status: "mutable", reason: "built from source at deploy time (build:), no image to pin" },
        { service: "cache", image: "redis", status: "mutable", reason: "no tag or digest (defaults to :latest, which can change)" },
      ]);
    });

    it("treats build: with a pinned image as mutable", () => {
      const verdict = only(analyzeComposeImages(`services:\n  app:\n    build: .\n    image: app@sha256:${HEX64}\n`));
      expect(verdict.status).to.equal("mutable");
      expect(verdict.image).to.equal(`app@sha256:${HEX64}`);
      expect(verdict.reason).to.match(/build:/);
    });

    it("reports services without image or build", () => {
      expect(only(analyzeComposeImages("services:\n  a:\n    command: sleep 1\n")).reason).to.equal("no image and no build");
      expect(only(analyzeComposeImages("services:\n  a:\n    extends: base\n")).reason).to.match(/extends/);
    });

    it("reports a non-string image as mutable", () => {
      const verdict = only(analyzeComposeImages("services:\n  a:\n    image: 42\n"));
      expect(verdict).to.include({ image: "42", status: "mutable", reason: "image is not a string" });
    });

    it("resolves anchors and merge keys", () => {
      const yaml = [
        "x-base: &base",
        `  image: app@sha256:${HEX64}`,
        "services:",
        "  one:",
        "    <<: *base",
        "  two:",
        "    <<: *base",
        "    image: app:dev",
        "",
      ].join("\n");
      expect(analyzeComposeImages(yaml).map((r) => [r.service, r.status])).to.deep.equal([
        ["one", "pinned"],
        ["two", "mutable"],
      ]);
    });

    it("throws a typed error for malformed YAML", () => {
      const error = thrown(() => analyzeComposeImages("services:\n  web: [unclosed\n  db:\n", "compose.yaml"));
      expect(error).to.be.instanceOf(ComposeYamlError);
      expect(error.code).to.equal("INVALID_COMPOSE_YAML");
      expect(error.message).to.match(/^compose\.yaml: not valid YAML \(line \d+, column \d+\)$/);
      expect(error.details).to.be.a("string").and.not.equal("");
    });

    it("throws a typed error for duplicate keys", () => {
      const error = thrown(() => analyzeComposeImages("services:\n  a:\n    image: x\n  a:\n    image: y\n"));
      expect(error.code).to.equal("INVALID_COMPOSE_YAML");
    });

    it("finds duplicate keys at any depth and in flow mappings, with their position", () => {
      const cases: Array<[string, string, string]> = [
        ["services:\n  a:\n    image: x\n  b:\n    image: y\n  a:\n    image: z\n", "line 6, column 3", '"a"'],
        [`services:\n  a:\n    image: x@sha256:${"a".repeat(64)}\n    image: evil\n`, "line 4, column 5", '"image"'],
        ["services: { a: { image: x }, a: { image: y } }\n", "line 1, column 30", '"a"'],
        ["services:\n  a:\n    image: x\n    1: one\n    1: two\n", "line 5, column 5", '"1"'],
      ];
      for (const [yaml, where, key] of cases) {
        const error = thrown(() => analyzeComposeImages(yaml, "compose.yaml"));
        expect(error, yaml).to.be.instanceOf(ComposeYamlError);
        expect(error.message, yaml).to.equal(`compose.yaml: not valid YAML (${where})`);
        expect(error.details, `${yaml} ${key}`).to.equal("duplicated mapping key");
      }
      // Keys become strings, so 1 and '1' are one key twice (as when Compose decodes them).
      expect(thrown(() => analyzeComposeImages("services:\n  a:\n    image: x\n    1: one\n    '1': two\n")).code).to.equal("INVALID_COMPOSE_YAML");
    });

    it("throws a typed error when there are no services", () => {
      const cases: Array<[string, RegExp]> = [
        ["version: '3'\n", /`services` is missing/],
        ["services:\n", /`services` is empty/],
        ["services: {}\n", /`services` is empty/],
        ["services:\n  - web\n", /`services` is not a mapping/],
        ["- a\n- b\n", /top level is not a mapping/],
        ["just a string\n", /top level is not a mapping/],
        ["", /top level is not a mapping/],
        ["services:\n  web:\n", /service "web" is not a mapping/],
      ];
      for (const [yaml, pattern] of cases) {
        const error = thrown(() => analyzeComposeImages(yaml));
        expect(error, yaml).to.be.instanceOf(ComposeYamlError);
        expect(error.code, yaml).to.equal("COMPOSE_NO_SERVICES");
        expect(error.message, yaml).to.match(pattern);
      }
    });

    it("an alias bomb costs no memory: aliases are shared, never expanded, even as an image", () => {
      const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
      for (let i = 0; i < 8; i++) {
        const prev = String.fromCharCode(97 + i);
        const next = String.fromCharCode(98 + i);
        lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(", ")}]`);
      }
      // 10^9 leaves if expanded.
      lines.push("services:\n  web:\n    image: x\n  bomb:\n    image: *i\n  merged:\n    <<: {image: y}\n    labels: *i");
      const results = analyzeComposeImages(lines.join("\n"));
      expect(results.map((r) => [r.service, r.image, r.reason])).to.deep.equal([
        ["web", "x", "no tag or digest (defaults to :latest, which can change)"],
        ["bomb", "(a list)", "image is not a string"],
        ["merged", "y", "no tag or digest (defaults to :latest, which can change)"],
      ]);
    });

    it("sees services named like Object.prototype members (__proto__, constructor)", () => {
      const yaml = `services:\n  __proto__:\n    image: evil:latest\n  constructor:\n    image: evil\n  web:\n    image: x@sha256:${"a".repeat(64)}\n`;
      expect(analyzeComposeImages(yaml).map((r) => [r.service, r.status])).to.deep.equal([
        ["__proto__", "mutable"],
        ["constructor", "mutable"],
        ["web", "pinned"],
      ]);
    });

    it("refuses a file of several YAML documents", () => {
      const error = thrown(() => analyzeComposeImages("services:\n  a:\n    image: x\n---\nservices:\n  b:\n    image: y\n", "compose.yaml"));
      expect(error.code).to.equal("INVALID_COMPOSE_YAML");
      expect(error.message).to.equal("compose.yaml: not valid YAML (it holds 2 documents, a compose file is one)");
    });
  });

  describe("analyzeAppComposeImages", () => {
    const appCompose = (compose: unknown) => JSON.stringify({ runner: "docker-compose", docker_compose_file: compose });

    it("analyses the embedded docker_compose_file from text or bytes", () => {
      const json = appCompose(`services:\n  web:\n    image: nginx:1.25\n`);
      const expected = [{ service: "web", image: "nginx:1.25", status: "mutable", reason: 'tag "1.25" can be re-pointed; pin with @sha256:<digest>' }];
      expect(analyzeAppComposeImages(json)).to.deep.equal(expected);
      expect(analyzeAppComposeImages(new TextEncoder().encode(json))).to.deep.equal(expected);
    });

    it("names the embedded file in YAML errors", () => {
      const error = thrown(() => analyzeAppComposeImages(appCompose("services: [oops"), "my.json"));
      expect(error.code).to.equal("INVALID_COMPOSE_YAML");
      expect(error.message).to.match(/^docker_compose_file of my\.json: not valid YAML/);
    });

    it("throws typed errors for bad app-compose JSON", () => {
      const cases: Array<[string | Uint8Array, RegExp]> = [
        ["{not json", /^app-compose\.json: not valid JSON$/],
        ["[1,2]", /top level is not a JSON object/],
        ["null", /top level is not a JSON object/],
        ['{"runner":"bash"}', /^app-compose\.json: has no docker_compose_file$/],
        [appCompose(42), /docker_compose_file is not a string/],
        [appCompose(null), /docker_compose_file is not a string/],
        [new Uint8Array([0x7b, 0xff, 0x7d]), /not valid UTF-8/],
      ];
      for (const [input, pattern] of cases) {
        const error = thrown(() => analyzeAppComposeImages(input));
        expect(error, String(input)).to.be.instanceOf(AppComposeJsonError);
        expect(error.code).to.equal("INVALID_APP_COMPOSE");
        expect(error.message, String(input)).to.match(pattern);
      }
    });
  });

  describe("allImagesPinned", () => {
    it("is true only when every service is pinned", () => {
      const pinned = analyzeComposeImages(`services:\n  a:\n    image: a@sha256:${HEX64}\n`);
      const mixed = analyzeComposeImages(`services:\n  a:\n    image: a@sha256:${HEX64}\n  b:\n    image: b\n`);
      expect(allImagesPinned(pinned)).to.equal(true);
      expect(allImagesPinned(mixed)).to.equal(false);
      expect(allImagesPinned([])).to.equal(false);
    });
  });
});
