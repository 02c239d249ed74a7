import { defineConfig } from "vite";

// The desktop app loads ui/dist (tauri.conf.json: build.frontendDist).
export default defineConfig({
  clearScreen: false,
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 1024 },
});
