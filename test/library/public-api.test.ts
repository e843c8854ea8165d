/**
 * The library entry (src/index.ts): what it exports works without Hardhat, and nothing it
 * reaches imports Hardhat — checked on the import graph, and by loading it in a plain Node
 * process (through tsx, as a user's script would) with no Hardhat runtime around it.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";

import * as library from "../../src/index.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const IMPORT = /(?:^|\s)(?:import|export)\s(?:[^;"]*?from\s+)?"([^"]+)"|import\("([^"]+)"\)/g;

/** Every file reachable from `entry` by relative imports, and every package they import. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const specifier = (match[1] ?? match[2])!;
      if (specifier.startsWith(".")) queue.push(path.resolve(path.dirname(file), specifier).replace(/\.js$/, ".ts"));
      else packages.add(specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!);
    }
  }
  return { files, packages };
}

describe("library: the public entry src/index.ts", function () {
  it("exports the verifier, compose hashing, chain reads and governance helpers, which work as documented", function () {
    const text = '{"name":"app"}';
    expect(library.hashAppComposeText(text)).to.equal(`0x${createHash("sha256").update(text).digest("hex")}`);
    expect(library.CHECK_IDS).to.include("event-log-replay");
    for (const name of ["verifyAttestation", "readAppInfo", "readComposeHashHistory", "safeTxHash", "buildProposal", "walkControl", "runMonitor"]) {
      expect(typeof (library as Record<string, unknown>)[name], name).to.equal("function");
    }
  });

  it("reaches no Hardhat package through its imports", function () {
    const { files, packages } = importGraph(path.join(root, "src/index.ts"));
    expect(files.size).to.be.greaterThan(40);
    const hardhat = [...packages].filter((name) => name === "hardhat" || name.startsWith("@nomicfoundation/"));
    expect(hardhat, `imported by the library: ${hardhat.join(", ")}`).to.deep.equal([]);
    for (const file of files) expect(file.startsWith(path.join(root, "src")), file).to.equal(true);
  });

  it("loads in a plain Node process (tsx), outside Hardhat", function () {
    this.timeout(60_000);
    const script = 'import("./src/index.ts").then((m) => console.log(JSON.stringify({ verify: typeof m.verifyAttestation, checks: m.CHECK_IDS.length })))';
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
    expect(run.status, run.stderr).to.equal(0);
    const out = JSON.parse(run.stdout.trim()) as { verify: string; checks: number };
    expect(out.verify).to.equal("function");
    expect(out.checks).to.equal(library.CHECK_IDS.length);
  });
});
