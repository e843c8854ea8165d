/** Files named by a flag (src/util/files.ts): read whole, bounded, and every failure an input error naming the flag. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";

import { InvalidInputError } from "../../src/util/errors.js";
import { readFileNamedByFlag, readTextFile } from "../../src/util/files.js";

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("util: files named by a flag", function () {
  const dir = mkdtempSync(path.join(tmpdir(), "files-"));
  const file = (name: string, content: string | Buffer) => {
    const at = path.join(dir, name);
    writeFileSync(at, content);
    return at;
  };

  it("reads empty, small and exactly-at-the-limit files whole", async function () {
    expect(await readTextFile(file("empty.txt", ""), "--x", 10)).to.equal("");
    expect(await readTextFile(file("small.txt", "héllo"), "--x", 10)).to.equal("héllo");
    const big = "a".repeat(200_000);
    expect(await readTextFile(file("limit.txt", big), "--x", big.length)).to.equal(big);
    expect(await readFileNamedByFlag(file("bytes.bin", Buffer.from([0, 1, 2])), "--x")).to.deep.equal(Buffer.from([0, 1, 2]));
  });

  it("refuses a file over the limit with the caller's wording, or the governance wording by default", async function () {
    const over = file("over.txt", "a".repeat(11));
    const error = await rejection(readTextFile(over, "--x", 10, (size) => `--x: ${size} bytes`));
    expect(error).to.be.instanceOf(InvalidInputError);
    expect(error.message).to.equal("--x: 11 bytes");
    expect((await rejection(readTextFile(over, "--proposal", 10))).message).to.equal(`--proposal: ${over} is 11 bytes; a governance file is at most 10 bytes: not a file this toolkit wrote`);
  });

  it("a missing file is an input error naming the flag and the path", async function () {
    const missing = path.join(dir, "missing.txt");
    for (const read of [() => readTextFile(missing, "--x"), () => readFileNamedByFlag(missing, "--x")]) {
      const error = await rejection(read());
      expect(error).to.be.instanceOf(InvalidInputError);
      expect(error.message).to.equal(`--x: cannot read ${missing} (ENOENT)`);
    }
  });
});
