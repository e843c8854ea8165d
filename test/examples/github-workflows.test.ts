/**
 * The GitHub Actions examples in examples/github/ are what users copy into their release
 * pipelines, so they are tested like code: every workflow parses; every `npx hardhat`
 * command in them names a real task with options it declares (flags without a value,
 * string options with one); inputs reach scripts through the environment, never pasted
 * into the script text; the composite action's inputs and outputs line up with their use.
 * And the release pipeline's own commands — taken from the composite action, with its
 * inputs substituted — run on the simulated chain against an app owned by a Safe and one
 * owned by a timelock whose proposer is that Safe, producing the outputs the action reads.
 */
import { copyFileSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { ArgumentType } from "hardhat/types/arguments";
import { getAddress, type Address } from "viem";
import { parse } from "yaml";

import { chain, freshSafe, freshTimelock, readProposal, run, safeContractsFile, suiteWorkDir } from "../governance/fixture.js";
import { EXAMPLES, hre, sha256Hex } from "../tasks/fixture.js";

const ROOT = path.resolve("examples/github");

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(name) ? [full] : [];
  });
}

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}

/** Every step of a workflow's jobs, or of a composite action. */
function stepsOf(document: { runs?: { using?: string; steps?: Step[] }; jobs?: Record<string, { steps: Step[] }> }): Step[] {
  if (document.runs?.using === "composite") return document.runs.steps as Step[];
  return Object.values(document.jobs as Record<string, { steps: Step[] }>).flatMap((job) => job.steps);
}

/** Splits one shell command line into words (single and double quotes, no other expansion). */
function words(line: string): string[] {
  const out: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const match of line.matchAll(pattern)) out.push(match[1] ?? match[2] ?? match[3]!);
  return out;
}

/** The `npx hardhat …` commands of a script, continuation lines joined, up to a redirection. */
function hardhatCommands(script: string): string[][] {
  return script
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("npx hardhat "))
    .map((line) => words(line.replace(/\s*>.*$/, "")).slice(2));
}

const camel = (flag: string) => flag.replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Turns `task --flag value …` into the task's name and argument object, checking each
 * option against the task's definition. `--network` (Hardhat's global option) is returned
 * apart. Values are substituted from `env` (`"$NAME"`).
 */
function taskInvocation(argv: string[], env: Record<string, string> = {}): { name: string; options: Record<string, string | boolean>; network?: string } {
  const [name, ...rest] = argv;
  expect(hre.tasks.rootTasks.has(name!), `npx hardhat ${name}: no such task`).to.equal(true);
  const task = hre.tasks.getTask(name!);
  const options: Record<string, string | boolean> = {};
  let network: string | undefined;
  const value = (word: string | undefined, flag: string): string => {
    expect(word, `${name} ${flag} needs a value`).to.be.a("string");
    expect(word!.startsWith("--"), `${name} ${flag} needs a value, got ${word}`).to.equal(false);
    return word!.replace(/^\$([A-Z_]+)$/, (_, variable: string) => env[variable] ?? `$${variable}`);
  };
  for (let i = 0; i < rest.length; i += 1) {
    const flag = rest[i]!;
    expect(flag, `${name}: expected an option, got ${flag}`).to.match(/^--[a-z][a-z0-9-]*$/);
    if (flag === "--network") {
      i += 1;
      network = value(rest[i], flag);
      continue;
    }
    const definition = task.options.get(camel(flag));
    expect(definition, `npx hardhat ${name} has no option ${flag}`).to.not.equal(undefined);
    if (definition!.type === ArgumentType.FLAG) options[camel(flag)] = true;
    else {
      i += 1;
      options[camel(flag)] = value(rest[i], flag);
    }
  }
  return { name: name!, options, ...(network === undefined ? {} : { network }) };
}

const action = parse(readFileSync(path.join(ROOT, "actions/propose-compose-hash/action.yml"), "utf8"));

describe("examples/github: the GitHub Actions workflows", function () {
  const files = yamlFiles(ROOT);

  it("are there: a verification workflow, a release workflow and the composite action", function () {
    expect(files.map((file) => path.relative(ROOT, file)).sort()).to.deep.equal([
      "actions/propose-compose-hash/action.yml",
      "release-propose-compose-hash.yml",
      "verify-cvm.yml",
    ]);
  });

  for (const file of yamlFiles(ROOT)) {
    const name = path.relative(ROOT, file);
    it(`${name}: every npx hardhat command is a real task with declared options; no expression inside a script`, function () {
      const steps = stepsOf(parse(readFileSync(file, "utf8")));
      const scripts = steps.flatMap((step) => (step.run === undefined ? [] : [step.run]));
      let commands = 0;
      for (const script of scripts) {
        // `${{ … }}` in a script is pasted into its text before bash runs it: a value with
        // quotes or `$(…)` would run as code. Values go through `env:` instead.
        expect(script, `${name}: a \${{ }} expression inside a run script`).to.not.match(/\$\{\{/);
        for (const argv of hardhatCommands(script)) {
          commands += 1;
          const invocation = taskInvocation(argv);
          // compose-hash is offline; everything else reads the chain and must say which one.
          if (invocation.name !== "compose-hash") expect(invocation.network, `${name}: ${argv.join(" ")} must name its network`).to.be.a("string");
        }
      }
      // The release workflow runs its commands through the composite action.
      if (name !== "release-propose-compose-hash.yml") expect(commands, `${name} runs no npx hardhat command`).to.be.greaterThan(0);
    });
  }

  it("verify-cvm.yml: runs after a successful deploy, on a schedule and by hand; fails on a failed check (no error masking)", function () {
    const workflow = parse(readFileSync(path.join(ROOT, "verify-cvm.yml"), "utf8"));
    expect(Object.keys(workflow.on)).to.have.members(["workflow_run", "schedule", "workflow_dispatch"]);
    expect(workflow.on.schedule[0].cron).to.be.a("string");
    const job = workflow.jobs.verify;
    expect(job.if).to.include("conclusion == 'success'");
    const verify = (job.steps as Step[]).find((step) => step.run?.includes("verify-attestation"))!;
    const [argv] = hardhatCommands(verify.run!);
    expect(taskInvocation(argv!).options).to.include({ url: "$CVM_URL", json: true, html: "report.html", requireMrConfigId: true });
    // The exit code is the verdict: nothing may swallow it.
    expect(verify.run).to.not.match(/\|\|\s*true|set \+e|continue-on-error/);
    expect(verify).to.not.have.property("continue-on-error");
    expect(verify.env).to.have.keys(["SEPOLIA_RPC_URL", "CVM_URL"]);
  });

  it("release-propose-compose-hash.yml: passes exactly the composite action's inputs and reads its outputs", function () {
    const workflow = parse(readFileSync(path.join(ROOT, "release-propose-compose-hash.yml"), "utf8"));
    const steps = workflow.jobs.propose.steps as Step[];
    const use = steps.find((step) => step.uses === "./.github/actions/propose-compose-hash")!;
    expect(use, "the workflow uses the composite action").to.not.equal(undefined);
    const declared = action.inputs as Record<string, { required: boolean }>;
    for (const given of Object.keys(use.with!)) expect(declared, `input ${given}`).to.have.property(given);
    for (const [input, spec] of Object.entries(declared)) if (spec.required) expect(use.with, `required input ${input}`).to.have.property(input);
    const summary = steps.find((step) => step.name === "Summary")!;
    for (const output of Object.values(summary.env!).map((expression) => /steps\.propose\.outputs\.([a-z-]+)/.exec(expression)?.[1])) {
      expect(action.outputs, `output ${output}`).to.have.property(output!);
    }
    expect(use.env).to.have.property("DEPLOYER_PRIVATE_KEY").that.matches(/^\$\{\{ secrets\./);
  });
});

describe("examples/github: the composite action's commands, run on the simulated chain", function () {
  const dir = suiteWorkDir("dstack-gh-action-");

  const steps = action.runs.steps as Step[];
  const hashStep = steps.find((step) => step.id === "hash")!;
  const proposeStep = steps.find((step) => step.id === "propose")!;
  const [hashCommand] = hardhatCommands(hashStep.run!);
  const [withTimelock, withoutTimelock] = hardhatCommands(proposeStep.run!);

  const hashEnv = { DOCKER_COMPOSE: "docker-compose.yaml", APP_NAME: "my-app" };
  let accounts: Address[];
  let safe: Address;
  let timelock: Address;
  let hashed: Awaited<ReturnType<typeof run>>;

  before(async function () {
    ({ accounts } = await chain());
    safe = await freshSafe(await safeContractsFile(dir), [accounts[0]!, accounts[1]!, accounts[2]!], 2);
    timelock = await freshTimelock("1d", [safe], [safe]);
    // The job's working folder: the repository's docker-compose.yaml, then the hash step.
    copyFileSync(EXAMPLES.dockerCompose, dir.file("docker-compose.yaml"));
    hashed = await runStep(hashCommand!, hashEnv);
  });

  /** Runs one of the action's commands in the job's working folder, as the job would. */
  async function runStep(argv: string[], env: Record<string, string>) {
    const invocation = taskInvocation(argv, env);
    if (invocation.name !== "compose-hash") expect(invocation.network).to.equal("$NETWORK");
    const cwd = process.cwd();
    process.chdir(dir.dir);
    try {
      return await run(invocation.name, { ...invocation.options, json: true });
    } finally {
      process.chdir(cwd);
    }
  }

  async function appOwnedBy(owner: Address): Promise<Address> {
    const deployed = await run("deploy-app", { owner, json: true });
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).to.equal(0);
    return getAddress(deployed.json.app);
  }

  it("step hash: builds app-compose.json with pinned images and prints the composeHash the action outputs", async function () {
    expect(hashed.exitCode, hashed.stdout + hashed.stderr).to.equal(0);
    expect(hashed.json.composeHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(hashed.json.composeHash).to.equal(sha256Hex(readFileSync(dir.file("app-compose.json"))));
    expect(hashed.json.allImagesPinned).to.equal(true);
    expect(JSON.parse(readFileSync(dir.file("app-compose.json"), "utf8")).name).to.equal("my-app");
  });

  it("step propose, no timelock: a Safe proposal allowing that hash, with the safeTxHash the action outputs", async function () {
    const app = await appOwnedBy(safe);
    const result = await runStep(withoutTimelock!, { APP: app, SAFE: safe, TIMELOCK: "", NETWORK: "$NETWORK" });
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
    const proposal = readProposal(dir.file("proposal.json"));
    expect(result.json.safeTxHash).to.equal(proposal.safeTxHash);
    expect(proposal.actions.map((a) => a.description)).to.deep.equal([`allow compose hash ${hashed.json.composeHash} on app ${app}`]);
    expect(proposal.signatures.map((s) => s.signer)).to.deep.equal([accounts[0]]);
  });

  it("step propose, with a timelock: a Safe proposal that schedules the hash on the timelock", async function () {
    const app = await appOwnedBy(timelock);
    const result = await runStep(withTimelock!, { APP: app, SAFE: safe, TIMELOCK: timelock, NETWORK: "$NETWORK" });
    expect(result.exitCode, result.stdout + result.stderr).to.equal(0);
    const proposal = readProposal(dir.file("proposal.json"));
    expect(result.json.safeTxHash).to.equal(proposal.safeTxHash);
    expect(proposal.to).to.equal(timelock);
    expect(proposal.actions.map((a) => a.step)).to.deep.equal(["1", "1.1"]);
    expect(proposal.actions[1]!.description).to.equal(`allow compose hash ${hashed.json.composeHash} on app ${app}`);
    expect(proposal.timelock?.timelock).to.equal(timelock);
  });
});
