/**
 * Multicall3 (mds1/multicall), deployed at the same address on almost every EVM chain by a
 * pre-signed keyless transaction. Only `aggregate3` is needed: it runs each call with its
 * own `allowFailure` flag and returns `(success, returnData)` per call, so one reverting read
 * does not hide the others.
 */
export const MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11" as const;

/** The `aggregate3` fragment of Multicall3's ABI (selector `0x82ad56cb`). */
export const multicall3Abi = [
  {
    inputs: [
      {
        components: [
          { internalType: "address", name: "target", type: "address" },
          { internalType: "bool", name: "allowFailure", type: "bool" },
          { internalType: "bytes", name: "callData", type: "bytes" },
        ],
        internalType: "struct Multicall3.Call3[]",
        name: "calls",
        type: "tuple[]",
      },
    ],
    name: "aggregate3",
    outputs: [
      {
        components: [
          { internalType: "bool", name: "success", type: "bool" },
          { internalType: "bytes", name: "returnData", type: "bytes" },
        ],
        internalType: "struct Multicall3.Result[]",
        name: "returnData",
        type: "tuple[]",
      },
    ],
    stateMutability: "payable",
    type: "function",
  },
] as const;
