import { expect } from "chai";

import { compareCodePoints, toDeterministicJson, toDeterministicJsonBytes } from "../../src/compose/index.js";
import { InvalidInputError } from "../../src/util/errors.js";

// Expected strings below were produced independently with Python 3.11:
//   json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
describe("deterministic JSON (dstack SDK style)", () => {
  it("sorts keys recursively, including objects inside arrays", () => {
    const value = { b: { z: 1, a: [{ y: true, x: null }] }, a: "first" };
    expect(toDeterministicJson(value)).to.equal('{"a":"first","b":{"a":[{"x":null,"y":true}],"z":1}}');
  });

  it("keeps array order (arrays are not sorted)", () => {
    expect(toDeterministicJson({ list: [3, 1, 2], names: ["b", "a"] })).to.equal('{"list":[3,1,2],"names":["b","a"]}');
  });

  it("uses compact separators with no whitespace", () => {
    const json = toDeterministicJson({ a: [1, 2], b: { c: "d e" } });
    expect(json).to.equal('{"a":[1,2],"b":{"c":"d e"}}');
    expect(json).to.not.match(/[,:] /);
  });

  it("sorts integer-like keys as strings, unlike JS object enumeration", () => {
    // JSON.stringify would print "9" before "10"; Python's sort_keys does not.
    expect(toDeterministicJson({ 9: 2, 10: 1, b: 3, a: 4 })).to.equal('{"10":1,"9":2,"a":4,"b":3}');
  });

  it("sorts keys by code point like Python (astral after U+FF61)", () => {
    expect(toDeterministicJson({ "\u{1F600}": 2, "\uff61": 1, z: 3 })).to.equal('{"z":3,"｡":1,"😀":2}');
    expect(compareCodePoints("\u{1F600}", "\uff61")).to.be.greaterThan(0);
    expect(compareCodePoints("a", "ab")).to.be.lessThan(0);
    expect(compareCodePoints("B", "a")).to.be.lessThan(0);
    expect(compareCodePoints("same", "same")).to.equal(0);
  });

  it("emits non-ASCII characters raw, as UTF-8", () => {
    const json = toDeterministicJson({ text: "你好世界 é 🚀" });
    expect(json).to.equal('{"text":"你好世界 é 🚀"}');
    const bytes = toDeterministicJsonBytes({ text: "é" });
    expect(Array.from(bytes)).to.deep.equal([...Buffer.from('{"text":"é"}', "utf8")]);
  });

  it("escapes exactly what Python's ensure_ascii=False escapes", () => {
    const value = { a: "\u0001\u007f\u2028\"\\\n\t\b\f\r" };
    expect(toDeterministicJson(value)).to.equal('{"a":"\\u0001\x7f\u2028\\"\\\\\\n\\t\\b\\f\\r"}');
  });

  it("omits undefined members and writes null", () => {
    expect(toDeterministicJson({ a: undefined, b: null })).to.equal('{"b":null}');
  });

  it("writes integers, including -0 as 0", () => {
    expect(toDeterministicJson({ a: 2, b: -5, c: -0 })).to.equal('{"a":2,"b":-5,"c":0}');
  });

  it("rejects values the SDKs would serialise differently", () => {
    expect(() => toDeterministicJson({ a: 1.5 })).to.throw(InvalidInputError, /\$\.a: only safe integers/);
    expect(() => toDeterministicJson({ a: Number.NaN })).to.throw(InvalidInputError);
    expect(() => toDeterministicJson({ a: Infinity })).to.throw(InvalidInputError);
    expect(() => toDeterministicJson({ a: 2 ** 60 })).to.throw(InvalidInputError);
    expect(() => toDeterministicJson({ a: ["\udc00"] })).to.throw(InvalidInputError, /\$\.a\[0\].*surrogate/);
    expect(() => toDeterministicJson({ "\ud800": 1 })).to.throw(InvalidInputError, /surrogate/);
  });

  it("rejects non-plain objects and undefined array elements", () => {
    expect(() => toDeterministicJson({ when: new Date(0) as never })).to.throw(InvalidInputError, /plain objects/);
    expect(() => toDeterministicJson({ list: [1, undefined as never] })).to.throw(InvalidInputError, /undefined array element/);
  });
});
