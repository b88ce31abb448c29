// Builds the PhoneBar into dist/: one minified bundle plus the static page and stylesheet.
// esbuild is the whole toolchain (type checking is `npm run check`), so a build is one step.
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const src = join(root, "src");
const dist = join(root, "dist");

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

const result = await build({
  entryPoints: [join(src, "main.tsx")],
  outfile: join(dist, "app.js"),
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  // JsSIP's `debug` dependency probes process.env; the browser has none.
  define: { "process.env.NODE_ENV": '"production"' },
  metafile: true,
  logLevel: "warning",
});

await Promise.all(["index.html", "app.css"].map((name) => copyFile(join(src, name), join(dist, name))));

const bytes =
  result.metafile.outputs["dist/app.js"]?.bytes ??
  Object.entries(result.metafile.outputs).find(([path]) => path.endsWith("app.js"))?.[1].bytes;
console.log(`phonebar: dist/app.js ${((bytes ?? 0) / 1024).toFixed(1)} KiB`);
