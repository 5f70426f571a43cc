// The part of Niivue that OpenSIRT's plan-review page uses, re-exported so that esbuild
// bundles Niivue and its dependencies into one self-contained ES module.
export { Niivue, NVImage, SLICE_TYPE, MULTIPLANAR_TYPE, SHOW_RENDER, cmapper } from "@niivue/niivue";
