// The published SDK, loaded from tests/compat/node_modules (pinned there by
// package-lock.json); $DIFFPLANE_SDK_DIR names another directory holding node_modules.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const sdkDir = process.env.DIFFPLANE_SDK_DIR || path.resolve(here, "..", "..", "tests", "compat");
const require = createRequire(path.join(sdkDir, "package.json"));

export const { Differential } = require("@differentialhq/core");
export const sdkVersion = require("@differentialhq/core/package.json").version;
