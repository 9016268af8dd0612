import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The app is served by trek itself at "/", so asset URLs are absolute.
// TREK_DEV_SERVER points the dev server's API proxy at a running trek.
const trek = process.env.TREK_DEV_SERVER ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: process.env.TREK_WEB_OUT ?? "dist",
    emptyOutDir: true,
    // Source maps would double the binary's share of the app for no user.
    sourcemap: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { "/api": trek },
  },
  test: {
    environment: "happy-dom",
    globals: true,
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
  },
});
