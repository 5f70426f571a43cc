// Writes the LICENSE file that ships next to the bundle: the licence text of every npm
// package whose code esbuild put into it (read from esbuild's metafile).
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [metafilePath, outPath] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(metafilePath, "utf8"));
// Standard texts for packages that declare an SPDX licence but ship no licence file.
const SPDX_TEXT = {
  "BSD-2-Clause": (holder) => `Copyright (c) ${holder}
All rights reserved.

Redistribution and use in source and binary forms, with or without modification, are permitted
provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this list of
   conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright notice, this list of
   conditions and the following disclaimer in the documentation and/or other materials provided
   with the distribution.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR
IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND
FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR
CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER
IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT
OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.`,
};
const packages = new Set();
for (const output of Object.values(meta.outputs)) {
  for (const input of Object.keys(output.inputs)) {
    const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (match) packages.add(match[1]);
  }
}
const parts = [
  "Third-party code bundled into niivue.js by web/build.sh (from web/package-lock.json).",
  "",
];
for (const name of [...packages].sort()) {
  const root = join("node_modules", name);
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const licenceFile = readdirSync(root).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  let text;
  if (licenceFile) {
    text = readFileSync(join(root, licenceFile), "utf8").trim();
  } else if (SPDX_TEXT[pkg.license]) {
    text = SPDX_TEXT[pkg.license](pkg.author || name);
  } else {
    throw new Error(`${name}: no licence file and no standard text for ${pkg.license}`);
  }
  parts.push("=".repeat(78), `${name} ${pkg.version} (${pkg.license})`, "=".repeat(78), text, "");
}
writeFileSync(outPath, parts.join("\n"));
console.log(`${outPath}: ${packages.size} packages: ${[...packages].sort().join(", ")}`);
