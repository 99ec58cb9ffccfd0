// Firmware builds with the DeviceScript compiler. `devs build` always writes to
// .devicescript/bin (its -o option is broken in 2.16.4), so each build is copied to
// .devicescript/out/<name>.* and builds are serialised with a lock directory.
//
//   node tools/build.mjs [sim|esp32|all]   build and print the size figures
import { spawn } from "node:child_process"
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
export const CLI = path.join(ROOT, "node_modules/@devicescript/cli/built/devicescript-cli.cjs")
const BIN = path.join(ROOT, ".devicescript/bin")
const OUT = path.join(ROOT, ".devicescript/out")
const LOCK = path.join(ROOT, ".devicescript/build.lock")

/** Firmware images: entry point per board. */
export const TARGETS = {
    sim: { entry: "src/main_sim.ts", board: "simulator (tools/sim)" },
    esp32: { entry: "src/main.ts", board: "wallbox_esp32" },
}

/** Fingerprint of every input of a build: paths, sizes and mtimes (a deleted file counts). */
function sourcesFingerprint(entry) {
    const parts = [entry]
    const walk = dir => {
        if (!fs.existsSync(dir)) return
        for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            const p = path.join(dir, e.name)
            if (e.isDirectory()) walk(p)
            else {
                const st = fs.statSync(p)
                parts.push(`${path.relative(ROOT, p)}:${st.size}:${st.mtimeMs}`)
            }
        }
    }
    for (const d of ["src", "services", "boards", "test/vm"]) walk(path.join(ROOT, d))
    for (const f of ["devsconfig.json", "package.json"]) {
        const st = fs.statSync(path.join(ROOT, f))
        parts.push(`${f}:${st.size}:${st.mtimeMs}`)
    }
    return parts.join("\n")
}

/** Run the DeviceScript CLI; resolves with its combined output, rejects on failure. */
export function runDevs(args, { cwd = ROOT, env } = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [CLI, ...args], {
            cwd,
            env: { ...process.env, NO_UPDATE_NOTIFIER: "1", ...env },
            stdio: ["ignore", "pipe", "pipe"],
        })
        let out = ""
        child.stdout.on("data", d => (out += d))
        child.stderr.on("data", d => (out += d))
        child.on("close", code => (code === 0 ? resolve(out) : reject(new Error(`devs ${args.join(" ")} failed:\n${out}`))))
    })
}

async function withLock(fn) {
    fs.mkdirSync(path.dirname(LOCK), { recursive: true })
    const started = Date.now()
    for (;;) {
        try {
            fs.mkdirSync(LOCK)
            break
        } catch {
            // a lock older than 5 minutes belongs to a build that died
            try {
                if (Date.now() - fs.statSync(LOCK).mtimeMs > 300000) fs.rmSync(LOCK, { recursive: true })
            } catch {}
            if (Date.now() - started > 600000) throw new Error("timed out waiting for the build lock")
            await new Promise(r => setTimeout(r, 200))
        }
    }
    try {
        return await fn()
    } finally {
        fs.rmSync(LOCK, { recursive: true, force: true })
    }
}

/** Paths of a built image. */
export function imagePaths(name) {
    return {
        devs: path.join(OUT, `${name}.devs`),
        dbg: path.join(OUT, `${name}-dbg.json`),
        sizes: path.join(OUT, `${name}-sizes.md`),
        stamp: path.join(OUT, `${name}.stamp`),
    }
}

/**
 * Build a target unless its image is newer than every source.
 * @returns the image paths
 */
export async function buildTarget(name, { force = false, log = () => {} } = {}) {
    const target = TARGETS[name]
    const out = imagePaths(name)
    const stamp = sourcesFingerprint(target.entry)
    const fresh = () => fs.existsSync(out.stamp) && fs.readFileSync(out.stamp, "utf8") === stamp
    if (!force && fresh()) return out
    return await withLock(async () => {
        if (!force && fresh()) return out
        log(`building ${target.entry} for ${target.board}...`)
        await runDevs(["build", target.entry])
        fs.mkdirSync(OUT, { recursive: true })
        fs.copyFileSync(path.join(BIN, "bytecode-dbg.json"), out.dbg)
        fs.copyFileSync(path.join(BIN, "bytecode-sizes.md"), out.sizes)
        fs.copyFileSync(path.join(BIN, "bytecode.devs"), out.devs)
        fs.writeFileSync(out.stamp, stamp)
        const f = imageFigures(name)
        // every build says what it costs (the budgets: tools/size.mjs)
        log(`${name}: function code ${f.functionBytes} B, strings ${f.stringBytes} B, image ${f.totalBytes} B`)
        return out
    })
}

/** Function and string figures of a built image, from the compiler's size table. */
export function imageFigures(name) {
    const md = fs.readFileSync(imagePaths(name).sizes, "utf8")
    const row = label => {
        const m = md.match(new RegExp(`^\\s*(\\d+)\\s*\\|\\s*${label}`, "m"))
        return m ? Number(m[1]) : NaN
    }
    return { functionBytes: row("Function TOTAL"), stringBytes: row("strings"), totalBytes: row("TOTAL") }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const which = process.argv[2] || "all"
    const names = which === "all" ? Object.keys(TARGETS) : [which]
    for (const n of names) {
        await buildTarget(n, { force: true, log: console.log })
    }
}
