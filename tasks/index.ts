import type { TaskDefinition } from "hardhat/types/tasks";

/**
 * Every task of the toolkit, declared in one place. Each action lives in its own
 * file under `tasks/actions/` and is imported lazily, so `npx hardhat --help`
 * stays fast and loads no verifier or chain client code.
 */
export const tasks: TaskDefinition[] = [];
