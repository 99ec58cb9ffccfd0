// Static files of the web bench for serveControlApi's fallback: the page at /, its files
// under /bench/, and the charting library under /vendor/ (from node_modules, no CDN).
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, "../..")

const TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
}

/** URL path → file, for the only files served besides tools/bench/. */
const VENDOR = {
    "/vendor/uPlot.iife.min.js": "node_modules/uplot/dist/uPlot.iife.min.js",
    "/vendor/uPlot.min.css": "node_modules/uplot/dist/uPlot.min.css",
}

function fileFor(pathname) {
    if (pathname === "/" || pathname === "/bench" || pathname === "/bench/") return path.join(HERE, "index.html")
    if (VENDOR[pathname]) return path.join(ROOT, VENDOR[pathname])
    if (!pathname.startsWith("/bench/")) return null
    const file = path.resolve(HERE, "." + decodeURIComponent(pathname.slice("/bench".length)))
    // nothing outside tools/bench/, and not this server module
    if (!file.startsWith(HERE + path.sep) || file === fileURLToPath(import.meta.url)) return null
    return file
}

/** A fallback(req, res, url) for serveControlApi: true when it answered. */
export function benchFallback(req, res, url) {
    if (req.method !== "GET" && req.method !== "HEAD") return false
    let file
    try {
        file = fileFor(url.pathname)
    } catch {
        return false
    }
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) return false
    const body = fs.readFileSync(file)
    res.writeHead(200, {
        "content-type": TYPES[path.extname(file)] || "application/octet-stream",
        "content-length": body.length,
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
    })
    res.end(req.method === "HEAD" ? undefined : body)
    return true
}
