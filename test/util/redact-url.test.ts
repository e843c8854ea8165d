import { expect } from "chai";

import { redactRpcUrl, redactUrlsInText } from "../../src/util/redact-url.js";

describe("redactRpcUrl", () => {
  const cases: Array<[string, string]> = [
    // Infura: project id after /v3/
    ["https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef", "https://mainnet.infura.io/v3/***"],
    // Alchemy: key after /v2/, including letter-only and dashed keys
    ["https://eth-mainnet.g.alchemy.com/v2/_gHhOgCqAFaa8f35R1PeHmpHx1E-zVcN", "https://eth-mainnet.g.alchemy.com/v2/***"],
    ["https://base-sepolia.g.alchemy.com/v2/abcdefghijklmnop", "https://base-sepolia.g.alchemy.com/v2/***"],
    // QuickNode: token as a path segment with a trailing slash
    [
      "https://broken-icy-mountain.quiknode.pro/14fb466c039ca54a895f597ee2744e848949099d/",
      "https://broken-icy-mountain.quiknode.pro/***/",
    ],
    // Ankr: chain then key
    ["https://rpc.ankr.com/eth/8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9", "https://rpc.ankr.com/eth/***"],
    // UUID tokens (Blast, Chainstack-like)
    ["https://eth-sepolia.blastapi.io/123e4567-e89b-12d3-a456-426614174000", "https://eth-sepolia.blastapi.io/***"],
    // userinfo is dropped, port kept
    ["http://alice:s3cr3t@127.0.0.1:8545/", "http://127.0.0.1:8545/"],
    ["https://user@node.example.com:8443/rpc", "https://node.example.com:8443/rpc"],
    // secret query parameters, whatever their value looks like
    ["https://api.etherscan.io/api?module=proxy&apikey=ABC", "https://api.etherscan.io/api?module=proxy&apikey=***"],
    ["https://lb.drpc.org/ogrpc?network=ethereum&dkey=Ak80gSCleU1Frwnafb5Ka4VRKGAHTlER8Kx8kvIq0rl8", "https://lb.drpc.org/ogrpc?network=ethereum&dkey=***"],
    ["https://rpc.example.com/?token=short", "https://rpc.example.com/?token=***"],
    // token-shaped query values under innocent names
    ["https://rpc.example.com/?id=0123456789abcdef0123", "https://rpc.example.com/?id=***"],
    // the fragment is dropped
    ["https://rpc.example.com/path#secret", "https://rpc.example.com/path"],
    // nothing secret: unchanged
    ["https://ethereum-sepolia-rpc.publicnode.com", "https://ethereum-sepolia-rpc.publicnode.com/"],
    ["https://sepolia.base.org", "https://sepolia.base.org/"],
    ["https://rpc.example.com/ethereum/mainnet?network=base", "https://rpc.example.com/ethereum/mainnet?network=base"],
    ["wss://mainnet.infura.io/ws/v3/0123456789abcdef0123456789abcdef", "wss://mainnet.infura.io/ws/v3/***"],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => {
      expect(redactRpcUrl(input)).to.equal(expected);
    });
  }

  it("masks userinfo and long tokens in text that is not a URL", () => {
    const redacted = redactRpcUrl("http//user:pw@host/0123456789abcdef0123456789");
    expect(redacted).to.not.include("0123456789abcdef0123456789");
    expect(redacted).to.not.include("pw");
    expect(redactRpcUrl("user:pw@host:8545")).to.equal("host:8545");
  });

  it("redacts every URL inside an error message", () => {
    const message =
      "HTTP request failed.\nURL: https://eth-mainnet.g.alchemy.com/v2/_gHhOgCqAFaa8f35R1PeHmpHx1E-zVcN\nfallback http://bob:pw@10.0.0.1:8545/.";
    const redacted = redactUrlsInText(message);
    expect(redacted).to.include("URL: https://eth-mainnet.g.alchemy.com/v2/***");
    expect(redacted).to.include("fallback http://10.0.0.1:8545/.");
    expect(redacted).to.not.include("_gHhOgCqAFaa8f35R1PeHmpHx1E-zVcN");
    expect(redacted).to.not.include("bob:pw");
  });
});
