import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";

import {
  analyzeAppComposeImages,
  buildAppCompose,
  ComposeYamlError,
  hashAppComposeFile,
  type BuildAppComposeOptions,
} from "../../src/compose/index.js";
import { InvalidInputError } from "../../src/util/errors.js";

const DIGEST = "a".repeat(64);
const COMPOSE = `services:\n  web:\n    image: nginx@sha256:${DIGEST}\n`;

// Expected JSON and hashes computed independently in Python 3.11:
//   s = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
//   hashlib.sha256(s.encode()).hexdigest()
const EXPECTED_JSON =
  '{"allowed_envs":["API_KEY","DB_URL"],"docker_compose_file":"services:\\n  web:\\n    image: nginx@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\n","gateway_enabled":false,"kms_enabled":true,"local_key_provider_enabled":false,"manifest_version":2,"name":"demo","no_instance_id":false,"public_logs":false,"public_sysinfo":false,"runner":"docker-compose","secure_time":false}';
const EXPECTED_HASH = "0xb3001e0efb1f34b564465da68820ffd46cb63678b6a6f53368a755196a50d5da";

const UNICODE_COMPOSE = "services:\n  app:\n    image: alpine:3.20 # 你好 🚀\n";
const UNICODE_JSON =
  '{"allowed_envs":[],"docker_compose_file":"services:\\n  app:\\n    image: alpine:3.20 # 你好 🚀\\n","gateway_enabled":false,"kms_enabled":false,"local_key_provider_enabled":false,"manifest_version":2,"name":"应用-é","no_instance_id":false,"pre_launch_script":"echo \\"hi\\"\\tdone\\n","public_logs":false,"public_sysinfo":false,"runner":"docker-compose","secure_time":false}';
const UNICODE_HASH = "0x06c8101889f014d551477b5a90da011c7109ae732f469d47530b3bca16414a13";

const base: BuildAppComposeOptions = { name: "demo", dockerCompose: COMPOSE };
const nodeSha256 = (bytes: Uint8Array) => `0x${createHash("sha256").update(bytes).digest("hex")}`;

describe("buildAppCompose", () => {
  it("matches the Python SDK serialisation byte for byte", () => {
    const built = buildAppCompose({ ...base, kmsEnabled: true, allowedEnvs: ["API_KEY", "DB_URL"] });
    expect(built.json).to.equal(EXPECTED_JSON);
    expect(built.composeHash).to.equal(EXPECTED_HASH);
  });

  it("emits non-ASCII characters raw and matches Python for a unicode manifest", () => {
    const built = buildAppCompose({ name: "应用-é", dockerCompose: UNICODE_COMPOSE, preLaunchScript: 'echo "hi"\tdone\n' });
    expect(built.json).to.equal(UNICODE_JSON);
    expect(built.json).to.include("你好 🚀").and.not.include("\\u");
    expect(built.composeHash).to.equal(UNICODE_HASH);
  });

  it("returns bytes that are the UTF-8 of json and hash to composeHash", () => {
    const built = buildAppCompose({ ...base, kmsEnabled: true });
    expect(Buffer.from(built.bytes).toString("utf8")).to.equal(built.json);
    expect(built.composeHash).to.equal(nodeSha256(built.bytes));
  });

  it("round-trips through a file: the written bytes hash to composeHash", async () => {
    const dir = await mkdtemp(join(tmpdir(), "compose-build-"));
    try {
      const built = buildAppCompose({ ...base, kmsEnabled: true, gatewayEnabled: true });
      const path = join(dir, "app-compose.json");
      await writeFile(path, built.bytes);
      expect(await hashAppComposeFile(path)).to.equal(built.composeHash);
      // The embedded compose survives intact and is analysable from the JSON.
      expect(analyzeAppComposeImages(built.json)).to.deep.equal([
        { service: "web", image: `nginx@sha256:${DIGEST}`, status: "pinned", reason: "pinned by sha256 digest" },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("writes the fixed fields and the flags explicitly", () => {
    const { appCompose } = buildAppCompose(base);
    expect(appCompose).to.deep.equal({
      manifest_version: 2,
      name: "demo",
      runner: "docker-compose",
      docker_compose_file: COMPOSE,
      kms_enabled: false,
      gateway_enabled: false,
      local_key_provider_enabled: false,
      public_logs: false,
      public_sysinfo: false,
      allowed_envs: [],
      no_instance_id: false,
      secure_time: false,
    });
  });

  it("sets every flag from its option", () => {
    const { appCompose } = buildAppCompose({
      ...base,
      kmsEnabled: true,
      gatewayEnabled: true,
      publicLogs: true,
      publicSysinfo: true,
      publicTcbinfo: false,
      noInstanceId: true,
      secureTime: true,
    });
    expect(appCompose).to.include({
      kms_enabled: true,
      gateway_enabled: true,
      public_logs: true,
      public_sysinfo: true,
      public_tcbinfo: false,
      no_instance_id: true,
      secure_time: true,
      local_key_provider_enabled: false,
    });
  });

  it("writes optional fields only when given, normalising key_provider_id", () => {
    const { appCompose, json } = buildAppCompose({
      ...base,
      localKeyProviderEnabled: true,
      keyProvider: "local",
      keyProviderId: "0xABcd01",
      swapSizeBytes: 1024 * 1024 * 1024,
    });
    expect(appCompose.key_provider).to.equal("local");
    expect(appCompose.key_provider_id).to.equal("abcd01");
    expect(appCompose.swap_size).to.equal(1073741824);
    expect(json).to.include('"key_provider":"local","key_provider_id":"abcd01"');
    expect(json).to.include('"swap_size":1073741824');

    const plain = buildAppCompose(base).json;
    for (const field of ["key_provider", "key_provider_id", "public_tcbinfo", "pre_launch_script", "swap_size"]) {
      expect(plain).to.not.include(`"${field}"`);
    }
  });

  it("omits an empty pre-launch script and zero swap, as dstack does", () => {
    const { appCompose } = buildAppCompose({ ...base, preLaunchScript: "", swapSizeBytes: 0 });
    expect(appCompose).to.not.have.property("pre_launch_script");
    expect(appCompose).to.not.have.property("swap_size");
  });

  it("keeps the compose text verbatim, including a BOM from raw bytes", () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(COMPOSE)]);
    const { appCompose } = buildAppCompose({ ...base, dockerCompose: new Uint8Array(bytes) });
    expect(appCompose.docker_compose_file).to.equal(`\ufeff${COMPOSE}`);
    const crlf = COMPOSE.replace(/\n/g, "\r\n");
    expect(buildAppCompose({ ...base, dockerCompose: crlf }).appCompose.docker_compose_file).to.equal(crlf);
  });

  it("keeps allowed_envs in the given order", () => {
    expect(buildAppCompose({ ...base, allowedEnvs: ["Z", "_a", "A1"] }).appCompose.allowed_envs).to.deep.equal(["Z", "_a", "A1"]);
  });

  describe("validation", () => {
    const fails = (options: unknown, pattern: RegExp, type: new (...args: never[]) => Error = InvalidInputError) =>
      expect(() => buildAppCompose(options as BuildAppComposeOptions)).to.throw(type, pattern);

    it("rejects an empty, blank or multi-line name", () => {
      fails({ ...base, name: "" }, /^name: must not be empty$/);
      fails({ ...base, name: "   " }, /^name: must not be empty$/);
      fails({ ...base, name: "a\nb" }, /^name: must not contain control characters/);
      fails({ ...base, name: 7 }, /^name: expected a string/);
    });

    it("rejects invalid env names and duplicates", () => {
      fails({ ...base, allowedEnvs: ["OK", "1ABC"] }, /^allowedEnvs\[1\]: "1ABC" is not a valid environment variable name$/);
      fails({ ...base, allowedEnvs: ["A-B"] }, /allowedEnvs\[0\]: "A-B"/);
      fails({ ...base, allowedEnvs: ["A B"] }, /allowedEnvs\[0\]/);
      fails({ ...base, allowedEnvs: [""] }, /allowedEnvs\[0\]/);
      fails({ ...base, allowedEnvs: ["KEY=1"] }, /allowedEnvs\[0\]/);
      fails({ ...base, allowedEnvs: ["ÄPI"] }, /allowedEnvs\[0\]/);
      fails({ ...base, allowedEnvs: [42] }, /allowedEnvs\[0\]: 42/);
      fails({ ...base, allowedEnvs: ["A", "B", "A"] }, /^allowedEnvs\[2\]: duplicate name "A"$/);
      fails({ ...base, allowedEnvs: "A,B" }, /^allowedEnvs: expected a list/);
    });

    it("rejects unknown options and non-boolean flags", () => {
      fails({ ...base, kms: true }, /^app-compose options: unknown option "kms"$/);
      fails({ ...base, kmsEnabled: "false" }, /^kmsEnabled: expected true or false$/);
      fails({ ...base, secureTime: 1 }, /^secureTime: expected true or false$/);
    });

    it("rejects contradictory key-provider settings", () => {
      fails({ ...base, kmsEnabled: true, localKeyProviderEnabled: true }, /only one key provider/);
      fails({ ...base, keyProvider: "kms" }, /keyProvider: "kms" contradicts kmsEnabled=false/);
      fails({ ...base, kmsEnabled: true, keyProvider: "none" }, /keyProvider: "none" contradicts/);
      fails({ ...base, keyProvider: "hsm" }, /^keyProvider: expected one of none, kms, local, tpm$/);
      expect(buildAppCompose({ ...base, kmsEnabled: true, keyProvider: "kms" }).appCompose.key_provider).to.equal("kms");
      expect(buildAppCompose({ ...base, keyProvider: "tpm" }).appCompose.key_provider).to.equal("tpm");
    });

    it("rejects a bad key provider id, swap size or pre-launch script", () => {
      fails({ ...base, keyProviderId: "0xzz" }, /^keyProviderId: not hexadecimal$/);
      fails({ ...base, keyProviderId: "abc" }, /^keyProviderId: odd number of hex digits/);
      fails({ ...base, swapSizeBytes: -1 }, /^swapSizeBytes:/);
      fails({ ...base, swapSizeBytes: 1.5 }, /^swapSizeBytes:/);
      fails({ ...base, preLaunchScript: 3 }, /^preLaunchScript: expected a string/);
    });

    it("rejects an empty, non-UTF-8, malformed or service-less compose file", () => {
      fails({ ...base, dockerCompose: "" }, /^dockerCompose: must not be empty$/);
      fails({ ...base, dockerCompose: new Uint8Array([0xff, 0xfe, 0x00]) }, /^dockerCompose: not valid UTF-8$/);
      fails({ ...base, dockerCompose: "services: [unclosed\n  x: 1" }, /^dockerCompose: not valid YAML/, ComposeYamlError);
      fails({ ...base, dockerCompose: "version: '3'\n" }, /^dockerCompose: `services` is missing$/, ComposeYamlError);
      fails({ ...base, dockerCompose: 12 }, /^dockerCompose: expected YAML text or bytes/);
    });

    it("rejects a missing options object", () => {
      fails(undefined, /^app-compose options: expected an object$/);
    });
  });
});
