/**
 * The compose-hash tasks in-process on the simulated chain: compose-hash, add/remove/check
 * and list-compose-hashes. Expected hashes are computed here with node:crypto from the
 * files' bytes, and every change is re-read from the contract through viem.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

import { expect } from "chai";
import { decodeFunctionData, getAddress, parseEventLogs, type Address, type Hex } from "viem";

import { dstackAppAbi } from "../../src/abi/dstack-app.js";
import { EXAMPLES, bytes32, chain, chainMark, expectNothingSent, freshApp, run, sha256Hex, tempDir, restoreChainAfter } from "./fixture.js";

const PINNED = "nginx@sha256:6b2a6ad3a9a5e4b2a3a8d4bd8a1c2b7fbb15e2a9d1b4c3e3f2a1f5d6c7b8a9e0";

describe("tasks: compose-hash", function () {
  restoreChainAfter();
  const tmp = tempDir("compose-hash-task-");
  after(() => tmp.cleanup());

  it("--app-compose: SHA-256 of the file's exact bytes, images reported, exit 0", async function () {
    const bytes = readFileSync(EXAMPLES.appCompose);
    const result = await run("compose-hash", { appCompose: EXAMPLES.appCompose, json: true });
    expect(result.exitCode).to.equal(0);
    expect(result.json.ok).to.equal(true);
    expect(result.json.composeHash).to.equal(sha256Hex(bytes));
    expect(result.json.bytes).to.equal(bytes.length);
    expect(result.json.allImagesPinned).to.equal(true);
    expect(result.json.images.map((i: { service: string; status: string }) => [i.service, i.status])).to.deep.equal([
      ["web", "pinned"],
      ["worker", "pinned"],
    ]);
  });

  it("hashes bytes, not JSON: a pretty-printed copy of the same document has another hash", async function () {
    const pretty = tmp.file("pretty.json");
    const text = JSON.stringify(JSON.parse(readFileSync(EXAMPLES.appCompose, "utf8")), null, 2);
    writeFileSync(pretty, text);
    const result = await run("compose-hash", { appCompose: pretty });
    expect(result.exitCode).to.equal(0);
    expect(result.stdout.split("\n")[0]).to.equal(`compose hash: ${sha256Hex(text)}`);
    expect(sha256Hex(text)).to.not.equal(sha256Hex(readFileSync(EXAMPLES.appCompose)));
  });

  it("--docker-compose --out: the written file's SHA-256 is the reported hash", async function () {
    const out = tmp.file("built.json");
    const result = await run("compose-hash", { dockerCompose: EXAMPLES.dockerCompose, out, name: "example-app", kmsEnabled: true, gatewayEnabled: true, allowedEnvs: "API_TOKEN", json: true });
    expect(result.exitCode).to.equal(0);
    const written = readFileSync(out);
    expect(result.json.composeHash).to.equal(sha256Hex(written));
    expect(result.json.source).to.equal(out);
    const manifest = JSON.parse(written.toString("utf8"));
    expect(manifest).to.include({ name: "example-app", kms_enabled: true, gateway_enabled: true, runner: "docker-compose" });
    expect(manifest.allowed_envs).to.deep.equal(["API_TOKEN"]);
    expect(manifest.docker_compose_file).to.equal(readFileSync(EXAMPLES.dockerCompose, "utf8"));
  });

  it("--require-pinned: exit 1 on a mutable image (the report is still printed, --out NOT written); without it exit 0", async function () {
    const compose = tmp.file("docker-compose.yaml");
    writeFileSync(compose, "services:\n  web:\n    image: nginx:latest\n");
    const loose = await run("compose-hash", { dockerCompose: compose, kmsEnabled: true, json: true });
    expect(loose.exitCode).to.equal(0);
    expect(loose.json.allImagesPinned).to.equal(false);
    const out = tmp.file("strict-out.json");
    const strict = await run("compose-hash", { dockerCompose: compose, kmsEnabled: true, requirePinned: true, out, json: true });
    expect(strict.exitCode).to.equal(1);
    expect(strict.json.ok).to.equal(false);
    expect(strict.json.composeHash).to.equal(loose.json.composeHash);
    expect(strict.json.out).to.equal(null);
    expect(existsSync(out), "--out must not be left behind when --require-pinned fails").to.equal(false);
    expect(strict.json.images[0]).to.include({ service: "web", image: "nginx:latest" });
    expect(strict.json.images[0].status).to.not.equal("pinned");
  });

  it("warns about kms_enabled false and ${VARS} outside allowed_envs (text and JSON)", async function () {
    const compose = tmp.file("env-compose.yaml");
    writeFileSync(compose, `services:\n  web:\n    image: ${PINNED}\n    environment:\n      T: \${TOKEN}\n      S: \${SECRET}\n`);
    const result = await run("compose-hash", { dockerCompose: compose, allowedEnvs: "TOKEN", json: true });
    expect(result.exitCode).to.equal(0);
    expect(result.json).to.deep.include({ kmsEnabled: false, undeclaredEnvs: ["SECRET"], allImagesPinned: true });
    const text = await run("compose-hash", { dockerCompose: compose, allowedEnvs: "TOKEN" });
    expect(text.stdout).to.match(/warning: kms_enabled is false/);
    expect(text.stdout).to.match(/warning: the compose file uses \$\{SECRET\}, which allowed_envs does not list/);
  });

  it("--serialization phala: 4-space JSON in --out, hashed as written; the builder fields reach the manifest", async function () {
    const out = tmp.file("phala.json");
    const result = await run("compose-hash", {
      dockerCompose: EXAMPLES.dockerCompose,
      name: "example-app",
      kmsEnabled: true,
      keyProvider: "kms",
      publicTcbinfo: "false",
      swapSize: 1073741824,
      allowedEnvs: "API_TOKEN",
      serialization: "phala",
      out,
      json: true,
    } as never);
    expect(result.exitCode, result.stderr).to.equal(0);
    const written = readFileSync(out, "utf8");
    expect(result.json.composeHash).to.equal(sha256Hex(written));
    expect(written.split("\n")[1]).to.equal('    "allowed_envs":[');
    expect(JSON.parse(written)).to.include({ key_provider: "kms", public_tcbinfo: false, swap_size: 1073741824 });
    // The same file re-serialised in the phala style hashes the same; in the dstack style it does not.
    const again = await run("compose-hash", { appCompose: out, serialization: "phala", json: true });
    expect(again.json.composeHash).to.equal(result.json.composeHash);
    const compact = await run("compose-hash", { appCompose: out, serialization: "dstack", json: true });
    expect(compact.json.composeHash).to.not.equal(result.json.composeHash);
    const bad = await run("compose-hash", { dockerCompose: EXAMPLES.dockerCompose, serialization: "yaml" });
    expect(bad.exitCode).to.equal(2);
    expect(bad.stderr).to.match(/^Error: --serialization: expected dstack or phala/);
  });

  it("invalid input: neither or both sources, unreadable file, malformed app-compose → exit 2 naming the flag", async function () {
    const neither = await run("compose-hash");
    expect(neither.exitCode).to.equal(2);
    expect(neither.stderr).to.match(/^Error: give exactly one of --app-compose FILE or --docker-compose FILE/);
    const both = await run("compose-hash", { appCompose: EXAMPLES.appCompose, dockerCompose: EXAMPLES.dockerCompose });
    expect(both.exitCode).to.equal(2);
    const missing = await run("compose-hash", { appCompose: tmp.file("missing.json") });
    expect(missing.exitCode).to.equal(2);
    expect(missing.stderr.split("\n")[0]).to.match(/^Error: --app-compose: cannot read app-compose file ".*missing\.json": no such file$/);
    const broken = tmp.file("broken.json");
    writeFileSync(broken, "{not json");
    const malformed = await run("compose-hash", { appCompose: broken, json: true });
    expect(malformed.exitCode).to.equal(2);
    expect(malformed.json.ok).to.equal(false);
    expect(malformed.json.error.code).to.equal("INVALID_INPUT");
    expect(malformed.json.error.message).to.match(/^--app-compose: .*broken\.json: not valid JSON$/);
  });
});

describe("tasks: add/remove/check-compose-hash", function () {
  restoreChainAfter();
  const tmp = tempDir("compose-allowlist-task-");
  let app: Address;
  after(() => tmp.cleanup());

  before(async function () {
    app = (await freshApp()).address;
  });

  async function allowed(hash: Hex): Promise<boolean> {
    const { publicClient } = await chain();
    return publicClient.readContract({ address: app, abi: dstackAppAbi, functionName: "allowedComposeHashes", args: [hash] });
  }

  it("add-compose-hash --hash: sends one transaction, prints tx/block/gas, the contract allows it", async function () {
    const { publicClient } = await chain();
    const hash = bytes32("add-one");
    const before = await publicClient.getBlockNumber({ cacheTime: 0 });
    const result = await run("add-compose-hash", { app, hash });
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(await allowed(hash)).to.equal(true);
    expect(await publicClient.getBlockNumber({ cacheTime: 0 })).to.equal(before + 1n);
    const block = await publicClient.getBlock({ blockNumber: before + 1n });
    const receipt = await publicClient.getTransactionReceipt({ hash: block.transactions[0]! });
    expect(result.stdout).to.include(`✔ allow compose hash ${hash} on app ${app}`);
    expect(result.stdout).to.include(`tx ${receipt.transactionHash}, block ${receipt.blockNumber}, gas used ${receipt.gasUsed}`);
    expect(result.stdout).to.include(`confirmed: 1 value(s) allowed on ${app}`);
  });

  it("idempotent: adding an allowed hash sends nothing and says so (exit 0)", async function () {
    const hash = bytes32("add-one");
    const mark = await chainMark();
    const result = await run("add-compose-hash", { app, hash });
    expect(result.exitCode).to.equal(0);
    expect(result.stdout).to.equal(`= ${hash}: compose hash already allowed; nothing to send`);
    await expectNothingSent(mark);
    const json = await run("add-compose-hash", { app, hash, json: true });
    expect(json.json).to.deep.include({ ok: true, sent: false, calls: [] });
    expect(json.json.unchanged).to.deep.equal([{ item: hash, reason: "compose hash already allowed" }]);
    await expectNothingSent(mark);
  });

  it("batch: several hashes go in ONE addComposeHashes transaction (one block, one tx, one event each)", async function () {
    const { publicClient } = await chain();
    const hashes = [bytes32("batch-a"), bytes32("batch-b"), bytes32("batch-c")];
    const before = await publicClient.getBlockNumber({ cacheTime: 0 });
    const result = await run("add-compose-hash", { app, hash: hashes.join(","), json: true });
    expect(result.exitCode, result.stdout).to.equal(0);
    expect(result.json.sent).to.equal(true);
    expect(result.json.confirmed).to.equal(true);
    expect(result.json.transactions).to.have.length(1);
    expect(await publicClient.getBlockNumber({ cacheTime: 0 })).to.equal(before + 1n);
    const block = await publicClient.getBlock({ blockNumber: before + 1n, includeTransactions: true });
    expect(block.transactions).to.have.length(1);
    const tx = block.transactions[0]!;
    expect(tx.hash).to.equal(result.json.transactions[0].hash);
    expect(getAddress(tx.to!)).to.equal(app);
    const call = decodeFunctionData({ abi: dstackAppAbi, data: tx.input });
    expect(call.functionName).to.equal("addComposeHashes");
    expect(call.args).to.deep.equal([hashes]);
    const receipt = await publicClient.getTransactionReceipt({ hash: tx.hash });
    const added = parseEventLogs({ abi: dstackAppAbi, logs: receipt.logs, eventName: "ComposeHashAdded" }).map((log) => log.args.composeHash);
    expect(added).to.deep.equal(hashes);
    for (const hash of hashes) expect(await allowed(hash)).to.equal(true);
  });

  it("batch with one hash already allowed: only the others are sent; duplicates collapse", async function () {
    const { publicClient } = await chain();
    const fresh = [bytes32("mixed-1"), bytes32("mixed-2")];
    const already = bytes32("batch-a");
    const before = await publicClient.getBlockNumber({ cacheTime: 0 });
    const result = await run("add-compose-hash", { app, hash: [already, fresh[0], fresh[1], fresh[0]!.toUpperCase().replace("0X", "0x")].join(","), json: true });
    expect(result.exitCode).to.equal(0);
    expect(result.json.unchanged).to.deep.equal([{ item: already, reason: "compose hash already allowed" }]);
    expect(await publicClient.getBlockNumber({ cacheTime: 0 })).to.equal(before + 1n);
    const tx = await publicClient.getTransaction({ hash: result.json.transactions[0].hash });
    expect(decodeFunctionData({ abi: dstackAppAbi, data: tx.input }).args).to.deep.equal([fresh]);
  });

  it("--dry-run: nothing sent; the printed calldata decodes to the batch call (JSON) / the single call (text)", async function () {
    const hashes = [bytes32("dry-1"), bytes32("dry-2")];
    const mark = await chainMark();
    const result = await run("add-compose-hash", { app, hash: hashes.join(","), dryRun: true, json: true });
    expect(result.exitCode).to.equal(0);
    expect(result.json).to.include({ ok: true, sent: false, dryRun: true });
    expect(result.json.calls).to.have.length(1);
    const [call] = result.json.calls;
    expect(getAddress(call.to)).to.equal(app);
    expect(Number(call.gasEstimate)).to.be.greaterThan(21_000);
    const decoded = decodeFunctionData({ abi: dstackAppAbi, data: call.data });
    expect(decoded.functionName).to.equal("addComposeHashes");
    expect(decoded.args).to.deep.equal([hashes]);

    const text = await run("add-compose-hash", { app, hash: hashes[0], dryRun: true });
    expect(text.exitCode).to.equal(0);
    expect(text.stdout).to.include(`dry run: would allow compose hash ${hashes[0]} on app ${app}`);
    const data = /^ {2}data: (0x[0-9a-f]+)$/m.exec(text.stdout)?.[1] as Hex | undefined;
    expect(data, text.stdout).to.not.equal(undefined);
    const single = decodeFunctionData({ abi: dstackAppAbi, data: data! });
    expect(single.functionName).to.equal("addComposeHash");
    expect(single.args).to.deep.equal([hashes[0]]);
    await expectNothingSent(mark);
    for (const hash of hashes) expect(await allowed(hash)).to.equal(false);
  });

  it("--app-compose: allows the SHA-256 of the file; a re-run sends nothing", async function () {
    const file = tmp.file("app-compose.json");
    copyFileSync(EXAMPLES.appCompose, file);
    const expected = sha256Hex(readFileSync(file));
    const result = await run("add-compose-hash", { app, appCompose: file, json: true });
    expect(result.exitCode).to.equal(0);
    expect(result.json.values).to.deep.equal([expected]);
    expect(await allowed(expected)).to.equal(true);
    const mark = await chainMark();
    const again = await run("add-compose-hash", { app, appCompose: file });
    expect(again.exitCode).to.equal(0);
    expect(again.stdout).to.include(`${expected}: compose hash already allowed; nothing to send`);
    await expectNothingSent(mark);
  });

  it("--docker-compose --out: the written app-compose.json hashes to the hash that was allowed", async function () {
    const out = tmp.file("built-app-compose.json");
    const result = await run("add-compose-hash", { app, dockerCompose: EXAMPLES.dockerCompose, out, name: "built-app", kmsEnabled: true, json: true });
    expect(result.exitCode, JSON.stringify(result.json)).to.equal(0);
    const written = sha256Hex(readFileSync(out));
    expect(result.json.values).to.deep.equal([written]);
    expect(await allowed(written)).to.equal(true);
    const check = await run("check-compose-hash", { app, appCompose: out, json: true });
    expect(check.exitCode).to.equal(0);
    expect(check.json.results).to.deep.equal([{ composeHash: written, source: out, allowed: true }]);
  });

  it("policy: an app-compose with an unpinned image, kms_enabled false and ${SECRET} is allowed with each warning on stderr first", async function () {
    const file = tmp.file("loose-app-compose.json");
    writeFileSync(file, JSON.stringify({ runner: "docker-compose", kms_enabled: false, allowed_envs: [], docker_compose_file: "services:\n  web:\n    image: nginx:latest\n    environment:\n      S: ${SECRET}\n" }));
    const result = await run("add-compose-hash", { app, appCompose: file, json: true });
    expect(result.exitCode, result.stderr).to.equal(0);
    expect(result.json.values).to.deep.equal([sha256Hex(readFileSync(file))]);
    const warnings = result.stderr.split("\n").filter((line) => line.startsWith("warning: "));
    expect(warnings).to.have.length(3);
    expect(warnings[0]).to.match(/service web: image nginx:latest is not pinned by @sha256 digest/);
    expect(warnings[1]).to.match(/kms_enabled is false/);
    expect(warnings[2]).to.match(/\$\{SECRET\}, which allowed_envs does not list/);
    // --hash alone carries no app-compose to check: no warnings.
    const byHash = await run("add-compose-hash", { app, hash: bytes32("policy-by-hash"), json: true });
    expect(byHash.exitCode).to.equal(0);
    expect(byHash.stderr).to.not.include("warning:");
  });

  it("--require-pinned: an unpinned app-compose is refused (exit 1): nothing sent, --out not written", async function () {
    const compose = tmp.file("unpinned-compose.yaml");
    writeFileSync(compose, "services:\n  web:\n    image: nginx:latest\n");
    const out = tmp.file("refused-app-compose.json");
    const mark = await chainMark();
    const result = await run("add-compose-hash", { app, dockerCompose: compose, kmsEnabled: true, out, requirePinned: true, json: true });
    expect(result.exitCode).to.equal(1);
    expect(result.json.ok).to.equal(false);
    expect(result.json.error.code).to.equal("COMPOSE_POLICY_FAILED");
    expect(result.json.error.message).to.match(/^--require-pinned: .* has images not pinned by @sha256 digest; nothing was sent and --out was not written$/);
    expect(existsSync(out)).to.equal(false);
    await expectNothingSent(mark);
    // A pinned one passes the same flag.
    const pinned = await run("add-compose-hash", { app, appCompose: EXAMPLES.appCompose, requirePinned: true, json: true });
    expect(pinned.exitCode, pinned.stderr).to.equal(0);
  });

  it("check-compose-hash: exit 0 when allowed, 1 when not, 1 when any of several is not", async function () {
    const { publicClient } = await chain();
    const yes = bytes32("add-one");
    const no = bytes32("never-added");
    const ok = await run("check-compose-hash", { app, hash: yes });
    expect(ok.exitCode).to.equal(0);
    const head = await publicClient.getBlockNumber({ cacheTime: 0 });
    expect(ok.stdout).to.equal(`ALLOWED     ${yes} (--hash) on app ${app}, chain 31337, block ${head}`);
    const notAllowed = await run("check-compose-hash", { app, hash: no });
    expect(notAllowed.exitCode).to.equal(1);
    expect(notAllowed.stdout).to.match(new RegExp(`^NOT ALLOWED ${no} \\(--hash\\)`));
    expect(notAllowed.stderr).to.equal("");
    const mixed = await run("check-compose-hash", { app, hash: `${yes},${no}`, json: true });
    expect(mixed.exitCode).to.equal(1);
    expect(mixed.json).to.include({ ok: false, app, chainId: 31337 });
    expect(mixed.json.results.map((r: { allowed: boolean }) => r.allowed)).to.deep.equal([true, false]);
  });

  it("remove-compose-hash: one removal; removing an absent hash sends nothing; batch removal is one tx", async function () {
    const { publicClient } = await chain();
    const removed = await run("remove-compose-hash", { app, hash: bytes32("add-one"), json: true });
    expect(removed.exitCode).to.equal(0);
    expect(removed.json.transactions).to.have.length(1);
    expect(await allowed(bytes32("add-one"))).to.equal(false);

    const mark = await chainMark();
    const absent = await run("remove-compose-hash", { app, hash: bytes32("never-added") });
    expect(absent.exitCode).to.equal(0);
    expect(absent.stdout).to.equal(`= ${bytes32("never-added")}: compose hash not allowed; nothing to send`);
    await expectNothingSent(mark);

    const hashes = [bytes32("batch-a"), bytes32("batch-b")];
    const batch = await run("remove-compose-hash", { app, hash: hashes.join(","), json: true });
    expect(batch.exitCode).to.equal(0);
    expect(batch.json.transactions).to.have.length(1);
    expect((await publicClient.getBlockNumber({ cacheTime: 0 })) - mark.block).to.equal(1n);
    const tx = await publicClient.getTransaction({ hash: batch.json.transactions[0].hash });
    const decoded = decodeFunctionData({ abi: dstackAppAbi, data: tx.input });
    expect(decoded.functionName).to.equal("removeComposeHashes");
    expect(decoded.args).to.deep.equal([hashes]);
    for (const hash of hashes) expect(await allowed(hash)).to.equal(false);
    expect(await allowed(bytes32("batch-c"))).to.equal(true);
  });
});

describe("tasks: list-compose-hashes", function () {
  restoreChainAfter();
  let app: Address;
  const H0 = bytes32("list-initial");
  const H1 = bytes32("list-1");
  const H2 = bytes32("list-2");
  const H3 = bytes32("list-3");
  /** What the chain says happened, from receipts (independent of the task). */
  const expected: Record<Hex, Array<{ action: string; blockNumber: bigint; transactionHash: Hex }>> = {};
  let deployBlock: bigint;

  before(async function () {
    const { publicClient, connection } = await chain();
    const deployed = await freshApp({ initialComposeHash: H0 });
    app = deployed.address;
    deployBlock = await publicClient.getBlockNumber({ cacheTime: 0 });
    expected[H0] = [{ action: "added", blockNumber: deployBlock, transactionHash: (await publicClient.getBlock({ blockNumber: deployBlock })).transactions[0]! }];
    const record = async (action: "added" | "removed", hashes: Hex[], send: () => Promise<Hex>) => {
      const receipt = await publicClient.waitForTransactionReceipt({ hash: await send() });
      for (const hash of hashes) {
        const events = expected[hash] ?? [];
        events.push({ action, blockNumber: receipt.blockNumber, transactionHash: receipt.transactionHash });
        expected[hash] = events;
      }
    };
    for (let i = 0; i < 5; i += 1) await connection.provider.request({ method: "evm_mine" });
    await record("added", [H1, H2], () => deployed.app.write.addComposeHashes([[H1, H2]]));
    for (let i = 0; i < 3; i += 1) await connection.provider.request({ method: "evm_mine" });
    await record("removed", [H1], () => deployed.app.write.removeComposeHash([H1]));
    await record("added", [H3], () => deployed.app.write.addComposeHash([H3]));
    await record("removed", [H0], () => deployed.app.write.removeComposeHash([H0]));
    await record("added", [H1], () => deployed.app.write.addComposeHash([H1]));
  });

  it("--json: the full history (added/removed, block, tx) from the deployment block, cross-checked (exit 0)", async function () {
    const { publicClient } = await chain();
    const head = await publicClient.getBlockNumber({ cacheTime: 0 });
    const result = await run("list-compose-hashes", { app, json: true, quiet: true });
    expect(result.exitCode, result.stdout).to.equal(0);
    const json = result.json;
    expect(json).to.include({ ok: true, address: app, chainId: 31337, initializedInRange: true });
    expect(json.fromBlock).to.equal(deployBlock.toString());
    expect(json.toBlock).to.equal(head.toString());
    const history = Object.fromEntries(
      json.hashes.map((record: { composeHash: Hex; events: Array<{ action: string; blockNumber: string; transactionHash: Hex }> }) => [
        record.composeHash,
        record.events.map((e) => ({ action: e.action, blockNumber: BigInt(e.blockNumber), transactionHash: e.transactionHash })),
      ]),
    );
    expect(history).to.deep.equal(expected);
    // Allowed now, in order of the add that allowed each: H2, H3, H1 (re-added last).
    expect(json.allowed).to.deep.equal([H2, H3, H1]);
    expect(json.crossCheck).to.deep.include({ checked: 4, mismatches: [], via: "eth_call", blockNumber: head.toString() });
    for (const record of json.hashes) {
      const onChain = await publicClient.readContract({ address: app, abi: dstackAppAbi, functionName: "allowedComposeHashes", args: [record.composeHash] });
      expect(record.allowedOnChain, record.composeHash).to.equal(onChain);
      expect(record.allowed, record.composeHash).to.equal(onChain);
    }
    // Each event's timestamp is its block's.
    const firstAdd = json.hashes.find((r: { composeHash: Hex }) => r.composeHash === H1).events[0];
    const block = await publicClient.getBlock({ blockNumber: BigInt(firstAdd.blockNumber) });
    expect(firstAdd.blockTimestamp).to.equal(block.timestamp.toString());
    expect(result.stderr).to.equal("");
  });

  it("text output with progress on stderr; --from-block after the initializer notes the gap", async function () {
    const full = await run("list-compose-hashes", { app });
    expect(full.exitCode).to.equal(0);
    expect(full.stdout).to.include(`allowed now (3):\n  ${H2}\n  ${H3}\n  ${H1}`);
    expect(full.stdout).to.match(/cross-check: 4 hash\(es\) agree with allowedComposeHashes at block \d+ \(via eth_call\)/);
    expect(full.stderr).to.match(/^scanning blocks \d+\.\.\d+: 100% \(1 requests, \d+ events\)$/m);

    const later = await run("list-compose-hashes", { app, fromBlock: (deployBlock + 1n).toString(), quiet: true, json: true });
    expect(later.exitCode).to.equal(0);
    expect(later.json.initializedInRange).to.equal(false);
    expect(later.json.hashes.find((r: { composeHash: Hex }) => r.composeHash === H0).events).to.have.length(1);
  });

  it("a history that disagrees with the contract exits 1 and names the hash", async function () {
    const { publicClient, networkHelpers, connection } = await chain();
    // Flip allowedComposeHashes[H1] to false in storage, without an event: find the
    // mapping's slot as the one whose keccak(H1 . slot) holds true.
    const { keccak256, encodeAbiParameters } = await import("viem");
    let slot: Hex | undefined;
    for (let p = 0n; p < 64n && slot === undefined; p += 1n) {
      const candidate = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [H1, p]));
      if (BigInt((await publicClient.getStorageAt({ address: app, slot: candidate })) ?? "0x0") === 1n) slot = candidate;
    }
    expect(slot, "storage slot of allowedComposeHashes[H1]").to.not.equal(undefined);
    await networkHelpers.setStorageAt(app, slot!, 0n);
    await connection.provider.request({ method: "evm_mine" });
    try {
      const result = await run("list-compose-hashes", { app, json: true, quiet: true });
      expect(result.exitCode).to.equal(1);
      expect(result.json.ok).to.equal(false);
      expect(result.json.crossCheck.mismatches).to.have.length(1);
      expect(result.json.crossCheck.mismatches[0]).to.include({ composeHash: H1, fromEvents: true, onChain: false });
      const text = await run("list-compose-hashes", { app, quiet: true });
      expect(text.exitCode).to.equal(1);
      expect(text.stdout).to.include(`cross-check: 1 MISMATCH(ES) with allowedComposeHashes:\n  ${H1}: events say true, contract says false`);
    } finally {
      await networkHelpers.setStorageAt(app, slot!, 1n);
    }
  });

  it("invalid ranges are refused before any chain access (exit 2)", async function () {
    const reversed = await run("list-compose-hashes", { app, fromBlock: "10", toBlock: "5" });
    expect(reversed.exitCode).to.equal(2);
    expect(reversed.stderr).to.match(/^Error: --from-block 10 is after --to-block 5$/);
    const notNumber = await run("list-compose-hashes", { app, chunkSize: "lots" });
    expect(notNumber.exitCode).to.equal(2);
    expect(notNumber.stderr).to.match(/^Error: --chunk-size: expected a block number, got "lots"$/);
  });
});
