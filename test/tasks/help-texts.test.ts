/**
 * What `npx hardhat <task> --help` shows comes from the declarations in tasks/index.ts:
 * each of those tasks ends its description with one example that names the task and only
 * options it declares; file options are typed as files; the README's
 * `--report-data-sha256-of` keeps working as a hidden alias of `--report-data-hash-of`
 * (Hardhat prints an option with digits as `--report-data-sha-2-5-6-of`).
 */
import { expect } from "chai";
import { ArgumentType } from "hardhat/types/arguments";

import { tasks } from "../../tasks/index.js";
import { monitoringTasks } from "../../tasks/monitoring-tasks.js";
import { governanceTasks } from "../../tasks/governance-tasks.js";
import { hre } from "./fixture.js";

const camel = (flag: string) => flag.replace(/-./g, (m) => m.charAt(1).toUpperCase());
const OWN = new Set([...monitoringTasks, ...governanceTasks].map((definition) => definition.id.join(" ")));

describe("task help texts (tasks/index.ts)", () => {
  const declared = tasks.map((definition) => definition.id.join(" ")).filter((name) => !OWN.has(name));

  it("every task declared there ends its description with an example of itself using only its own options", () => {
    expect(declared.length).to.be.greaterThan(25);
    for (const name of declared) {
      const task = hre.tasks.getTask(name);
      const match = /\. Example: npx hardhat (\S+)(.*)$/.exec(task.description);
      expect(match, `${name}: "${task.description}"`).to.not.equal(null);
      expect(match![1], name).to.equal(name);
      for (const flag of match![2]!.matchAll(/--([a-z0-9-]+)/g)) {
        if (flag[1] === "network") continue; // Hardhat's global option
        // How Hardhat's parser maps a typed flag to an option name.
        expect(task.options.has(camel(flag[1]!)), `${name}: example uses --${flag[1]}`).to.equal(true);
      }
    }
  });

  it("file options are typed as files; swap size is an integer; value shapes are named", () => {
    const compose = hre.tasks.getTask("compose-hash");
    for (const option of ["appCompose", "dockerCompose", "out", "preLaunchScript"]) {
      expect(compose.options.get(option)?.type, option).to.equal(ArgumentType.FILE_WITHOUT_DEFAULT);
    }
    expect(compose.options.get("swapSize")?.type).to.equal(ArgumentType.INT);
    expect(hre.tasks.getTask("add-compose-hash").options.get("app")?.description).to.match(/^\(required\) ADDRESS/);
    expect(hre.tasks.getTask("verify-attestation").options.get("bundle")?.type).to.equal(ArgumentType.FILE_WITHOUT_DEFAULT);
  });

  it("--report-data-hash-of is shown; the README's --report-data-sha256-of is a hidden alias", () => {
    const verify = hre.tasks.getTask("verify-attestation");
    expect(verify.options.get("reportDataHashOf")?.hidden).to.not.equal(true);
    expect(verify.options.get("reportDataSha256Of")?.hidden).to.equal(true);
    // Hardhat maps the typed flag to the option name by kebab → camel case.
    expect(camel("report-data-sha256-of")).to.equal("reportDataSha256Of");
  });
});
