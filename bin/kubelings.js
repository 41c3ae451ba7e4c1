#!/usr/bin/env node
// Thin launcher: runs the compiled CLI (built by `npm install` through the `prepare` script).
import("../dist/src/cli/main.js").catch((err) => {
  if (err && err.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("dist/src/cli")) {
    console.error("kubelings: the compiled program is missing. Run `npm install` (or `npm run build`) in the kubelings folder first.");
    process.exit(2);
  }
  throw err;
});
