/**
 * The real-world manifest corpus (kubernetes/examples, Apache License 2.0, copied byte for byte
 * from the project's shared corpus into test/fixtures/corpus/ so a fresh clone has it).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Folder holding every manifest of kubernetes/examples, paths kept. */
export const CORPUS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "corpus", "kubernetes-examples");
