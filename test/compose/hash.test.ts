import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect } from "chai";

import {
  ComposeFileError,
  hashAppComposeBytes,
  hashAppComposeFile,
  hashAppComposeText,
} from "../../src/compose/index.js";
import { DstackGovernanceError, InvalidInputError } from "../../src/util/errors.js";

const utf8 = (text: string) => new TextEncoder().encode(text);
const nodeSha256 = (bytes: Uint8Array) => `0x${createHash("sha256").update(bytes).digest("hex")}`;

// Computed by hand in a shell: printf '{"a":1}' | sha256sum, and so on.
const COMPACT = '{"a":1}';
const COMPACT_SHA256 = "0x015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862";
const PRETTY = '{\n  "a": 1\n}\n';
const PRETTY_SHA256 = "0x5e36b6560513586ced65eca0e8b025fe88edbcab82ba2cb67a5fcb2d7b202383";
const EMPTY_SHA256 = "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

describe("compose hash", () => {
  describe("hashAppComposeBytes", () => {
    it("matches hand-computed sha256sum values", () => {
      expect(hashAppComposeBytes(utf8(COMPACT))).to.equal(COMPACT_SHA256);
      expect(hashAppComposeBytes(utf8(PRETTY))).to.equal(PRETTY_SHA256);
      expect(hashAppComposeBytes(new Uint8Array())).to.equal(EMPTY_SHA256);
    });

    it("hashes exact bytes: pretty and compact forms of the same JSON differ", () => {
      const compact = hashAppComposeBytes(utf8(COMPACT));
      const pretty = hashAppComposeBytes(utf8(PRETTY));
      expect(compact).to.not.equal(pretty);
      // A trailing newline alone changes the hash.
      expect(hashAppComposeBytes(utf8(`${COMPACT}\n`))).to.not.equal(compact);
    });

    it("agrees with node:crypto on arbitrary bytes", () => {
      const bytes = new Uint8Array(1000).map((_, i) => (i * 37 + 11) & 0xff);
      expect(hashAppComposeBytes(bytes)).to.equal(nodeSha256(bytes));
    });

    it("hashes only the viewed slice of a larger buffer", () => {
      const backing = utf8(`xx${COMPACT}yy`);
      const view = backing.subarray(2, 2 + COMPACT.length);
      expect(hashAppComposeBytes(view)).to.equal(COMPACT_SHA256);
    });

    it("returns lowercase 0x-prefixed 32-byte hex", () => {
      expect(hashAppComposeBytes(utf8("x"))).to.match(/^0x[0-9a-f]{64}$/);
    });

    it("rejects non-bytes with a typed error", () => {
      expect(() => hashAppComposeBytes(COMPACT as unknown as Uint8Array)).to.throw(InvalidInputError, /expected a Uint8Array/);
    });
  });

  describe("hashAppComposeText", () => {
    it("hashes the UTF-8 encoding, including non-ASCII", () => {
      const text = '{"name":"应用 🚀"}';
      expect(hashAppComposeText(text)).to.equal(nodeSha256(Buffer.from(text, "utf8")));
      expect(hashAppComposeText(COMPACT)).to.equal(COMPACT_SHA256);
    });

    it("rejects a lone surrogate instead of hashing U+FFFD", () => {
      expect(() => hashAppComposeText('{"a":"\ud800"}')).to.throw(InvalidInputError, /surrogate/);
    });
  });

  describe("hashAppComposeFile", () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "compose-hash-"));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("hashes the file byte for byte", async () => {
      const pretty = join(dir, "pretty.json");
      const compact = join(dir, "compact.json");
      await writeFile(pretty, PRETTY);
      await writeFile(compact, COMPACT);
      expect(await hashAppComposeFile(pretty)).to.equal(PRETTY_SHA256);
      expect(await hashAppComposeFile(compact)).to.equal(COMPACT_SHA256);
    });

    it("keeps a UTF-8 BOM and CRLF line endings in the hash", async () => {
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{\r\n"a":1}\r\n')]);
      const path = join(dir, "bom.json");
      await writeFile(path, bytes);
      expect(await hashAppComposeFile(path)).to.equal(nodeSha256(bytes));
    });

    it("throws a typed error naming a missing file", async () => {
      const path = join(dir, "does-not-exist.json");
      const error = await hashAppComposeFile(path).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(ComposeFileError);
      expect(error).to.be.instanceOf(DstackGovernanceError);
      const typed = error as ComposeFileError;
      expect(typed.code).to.equal("COMPOSE_FILE_UNREADABLE");
      expect(typed.path).to.equal(path);
      expect(typed.message).to.include(path).and.include("no such file");
      expect(typed.message).to.not.include("\n");
    });

    it("throws a typed error for a directory", async () => {
      const error = await hashAppComposeFile(dir).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(ComposeFileError);
      expect((error as ComposeFileError).message).to.include("is a directory");
    });

    it("rejects an empty path", async () => {
      const error = await hashAppComposeFile("").then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(InvalidInputError);
    });
  });
});
