import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Ports come from the command line (`vite --port N --strictPort`), so the dev script
// and the browser tests each run their own server without colliding.
export default defineConfig({
  plugins: [react()],
  server: { host: "127.0.0.1" },
  preview: { host: "127.0.0.1" },
});
