import { expect } from "chai";
import { network } from "hardhat";

import { verifyAttestation } from "../../src/attestation/verify.js";
import { buildAttestation } from "../support/attestation-builder.js";
import { deployAppProxy } from "../support/contracts.js";

const { viem } = await network.create();

describe("verifyAttestation: the key provider decides whether the allowlist was enforced", () => {
  async function verifyWithKeyProvider(keyProvider: string) {
    const [owner] = await viem.getWalletClients();
    const probe = buildAttestation();
    const { app } = await deployAppProxy(viem, { owner: owner!.account.address, allowAnyDevice: true, initialComposeHash: probe.composeHash });
    const built = buildAttestation({ appId: app.address, appCompose: probe.appCompose, keyProvider });
    const { verdict } = await verifyAttestation(built.bundle, {
      now: built.now,
      reportData: { kind: "nonce", nonce: built.nonce },
      quoteSignature: { mode: "local", collateral: built.collateral, trustedRootCaDer: built.rootCaDer },
      onchain: { client: await viem.getPublicClient() },
    });
    return verdict.checks.find((c) => c.id === "onchain-compose-hash")!;
  }

  it("says nothing extra when keys come from the KMS", async () => {
    const check = await verifyWithKeyProvider(JSON.stringify({ name: "kms", id: "00" }));
    expect(check.status).to.equal("pass");
    expect(check.detail).to.not.include("note:");
  });

  it("notes that no on-chain decision was enforced at boot when the key provider is not the KMS", async () => {
    const check = await verifyWithKeyProvider(JSON.stringify({ name: "local-sgx", id: "00" }));
    expect(check.status).to.equal("pass");
    expect(check.detail).to.include('note: the key provider is "local-sgx", not the KMS, so no on-chain decision was enforced when this CVM booted');
  });
});
