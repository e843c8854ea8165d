/**
 * The two app-compose serialisation styles against hashes computed independently, with
 * Python 3's json module (not this project's code, not JavaScript):
 *   dstack: json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
 *   phala:  json.dumps(obj, sort_keys=True, indent=4, ensure_ascii=False).replace('": ', '":')
 * The second is Phala Cloud's algorithm as `@phala/cloud` states it (getComposeHash /
 * dumpAppCompose). During development the phala style also reproduced, byte for byte, the
 * app-compose text of a real CVM provisioned by Phala Cloud (6,898 bytes; its SHA-256
 * equalled that CVM's compose-hash event). That file is someone else's, so it is not in
 * the repository; PHALA_SHAPED below has the same field set and layout with our own values.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

import { expect } from "chai";

import {
  buildAppCompose,
  parseAppComposeJson,
  phalaRewritesStrings,
  preprocessForPhalaCloud,
  serializeAppCompose,
  toPhalaCloudJson,
} from "../../src/compose/index.js";
import { InvalidInputError } from "../../src/util/errors.js";

const sha256 = (text: string) => `0x${createHash("sha256").update(text, "utf8").digest("hex")}`;

// Field set and value shapes of an app-compose as Phala Cloud provisions it (features,
// tproxy_enabled, default_gateway_domain, a pre-launch script with quotes and newlines).
const PHALA_SHAPED = {
  allowed_envs: ["API_TOKEN"],
  default_gateway_domain: "gateway.example.test",
  docker_compose_file:
    "services:\n  web:\n    image: nginx@sha256:6b2a6ad3a9a5e4b2a3a8d4bd8a1c2b7fbb15e2a9d1b4c3e3f2a1f5d6c7b8a9e0\n    environment:\n      API_TOKEN: ${API_TOKEN}\n",
  features: ["kms", "tproxy-net"],
  gateway_enabled: true,
  kms_enabled: true,
  local_key_provider_enabled: false,
  manifest_version: 2,
  name: "phala-shaped",
  no_instance_id: false,
  pre_launch_script: '\n#!/bin/bash\necho "pre-launch"\n',
  public_logs: true,
  public_sysinfo: true,
  runner: "docker-compose",
  tproxy_enabled: true,
};
const PHALA_SHAPED_HASH = {
  phala: "0x7b41e1210e6d4e267442e23038ba80529482c3d62c6a9ca89f07118f1abd79fc",
  dstack: "0xa85c5dc800f4a99dc30275395244f276baa912720f1c0e6207a22557cc1855ed",
};

describe("app-compose serialisation styles (dstack SDK compact, Phala Cloud)", () => {
  it("phala: 4-space indent, sorted keys, no space after a key's colon (exact text, from Python)", () => {
    expect(toPhalaCloudJson({ b: [1, { d: "x", c: [] }], a: {} })).to.equal(
      '{\n    "a":{},\n    "b":[\n        1,\n        {\n            "c":[],\n            "d":"x"\n        }\n    ]\n}',
    );
  });

  it("both styles hash a Phala-shaped app-compose to the independently computed hashes, and differ", () => {
    const phala = serializeAppCompose(PHALA_SHAPED, "phala");
    const dstack = serializeAppCompose(PHALA_SHAPED, "dstack");
    expect(phala.composeHash).to.equal(PHALA_SHAPED_HASH.phala);
    expect(dstack.composeHash).to.equal(PHALA_SHAPED_HASH.dstack);
    expect(phala.composeHash).to.equal(sha256(phala.json));
    expect(Buffer.from(phala.bytes).toString("utf8")).to.equal(phala.json);
    expect(phala.json.split("\n")[1]).to.equal('    "allowed_envs":[');
  });

  it("a Phala-provisioned text re-serialised in the phala style is byte-identical (what compose-hash --serialization phala relies on)", () => {
    const provisioned = serializeAppCompose(PHALA_SHAPED, "phala").json;
    const again = serializeAppCompose(parseAppComposeJson(provisioned) as typeof PHALA_SHAPED, "phala");
    expect(again.json).to.equal(provisioned);
    expect(again.composeHash).to.equal(PHALA_SHAPED_HASH.phala);
  });

  it("phala preprocessing drops fields by runner and an empty pre_launch_script, as Phala Cloud does", () => {
    expect(preprocessForPhalaCloud({ runner: "docker-compose", bash_script: "x", docker_compose_file: "y", pre_launch_script: "" })).to.deep.equal({
      runner: "docker-compose",
      docker_compose_file: "y",
    });
    expect(preprocessForPhalaCloud({ runner: "bash", bash_script: "x", docker_compose_file: "y", pre_launch_script: "z" })).to.deep.equal({
      runner: "bash",
      bash_script: "x",
      pre_launch_script: "z",
    });
    // The dstack style keeps whatever it is given.
    expect(serializeAppCompose({ runner: "docker-compose", bash_script: "x" }, "dstack").json).to.equal('{"bash_script":"x","runner":"docker-compose"}');
    expect(serializeAppCompose({ runner: "docker-compose", bash_script: "x" }, "phala").json).to.equal('{\n    "runner":"docker-compose"\n}');
  });

  it('phala mirrors the replacement inside strings (`\\": ` loses its space) and says so', () => {
    const value = { name: "rw", docker_compose_file: "services:\n  web:\n    image: busybox\n    command: [\"echo\", '{\"a\": 1}']\n" };
    const phala = serializeAppCompose(value, "phala");
    expect(phala.composeHash).to.equal("0xf22f23175cac7ddfabb5f08b795a66ca80e234e8725c2aaaffffd1ba45650864");
    expect(phala.json).to.include(`'{\\"a\\":1}'`);
    expect(phalaRewritesStrings(value)).to.equal(true);
    expect(phalaRewritesStrings(PHALA_SHAPED)).to.equal(false);
  });

  it("buildAppCompose({ serialization }) writes the same manifest in either style (hashes from Python)", () => {
    const options = {
      name: "example-app",
      dockerCompose: readFileSync("examples/docker-compose.yaml", "utf8"),
      kmsEnabled: true,
      gatewayEnabled: true,
      keyProvider: "kms" as const,
      allowedEnvs: ["API_TOKEN"],
      publicTcbinfo: true,
      swapSizeBytes: 4294967296,
    };
    const dstack = buildAppCompose(options);
    const phala = buildAppCompose({ ...options, serialization: "phala" });
    expect(dstack.composeHash).to.equal("0x98522f0c5f9162695ce935196647b8869f44a192c2923ac152a36fa5b5846469");
    expect(phala.composeHash).to.equal("0xe5cda39e37077ef8b1ca9b9075aee8f589b7913b559107df468b7ecff999b12d");
    expect(phala.appCompose).to.deep.equal(dstack.appCompose);
    expect(() => buildAppCompose({ ...options, serialization: "pretty" as never })).to.throw(InvalidInputError, /^serialization: expected one of dstack, phala/);
  });

  it("phala rejects what cannot be hashed portably, like the dstack style", () => {
    expect(() => toPhalaCloudJson({ a: 1.5 })).to.throw(InvalidInputError, /only safe integers/);
    expect(() => toPhalaCloudJson({ a: "\ud800" })).to.throw(InvalidInputError, /unpaired UTF-16 surrogate/);
  });
});
