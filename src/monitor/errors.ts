import { InvalidInputError } from "../util/errors.js";

/**
 * A monitor configuration that cannot be used. The message names the file, the line, the
 * target index and the field of the first problem (`monitor.yaml:7: targets[2].app: …`);
 * `problems` lists every problem found, so one run shows them all. It is an input error:
 * the task exits 2 before contacting any CVM or chain.
 */
export class MonitorConfigError extends InvalidInputError {
  override name = "MonitorConfigError";
  readonly file: string;
  readonly problems: readonly string[];
  constructor(file: string, problems: readonly string[]) {
    const first = problems[0] ?? `${file}: unusable monitor configuration`;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})` : "";
    // The details are printed as one line: the problems separated by "; ".
    super(`${first}${more}`, problems.length > 1 ? { details: `every problem: ${problems.join("; ")}` } : {});
    this.file = file;
    this.problems = problems;
  }
}
