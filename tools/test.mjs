// npm test: every suite, VM and Node, then one line "N passed, N failed".
//   node tools/test.mjs [--vm-only | --node-only] [node test files...]
// VM suites run in the DeviceScript simulator in test mode (GC stress on, no Jacdac bus);
// Node suites (test/e2e, test/node) run the firmware in the simulator against real servers.
import { spawn } from "node:child_process"
import fs from "node:fs"
import path from "node:path"
import { CLI, ROOT } from "./build.mjs"

const args = process.argv.slice(2)
const vmOnly = args.includes("--vm-only")
const nodeOnly = args.includes("--node-only")
const files = args.filter(a => !a.startsWith("--"))

/** VM test entry points: each imports its *.test.ts suites. */
const VM_ENTRIES = ["test/vm/main.ts"]
const VM_TIMEOUT_MS = 120000

function run(cmd, argv, onLine) {
    return new Promise(resolve => {
        const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, NO_UPDATE_NOTIFIER: "1" }, stdio: ["ignore", "pipe", "pipe"] })
        let buf = ""
        const feed = d => {
            buf += d
            let nl
            while ((nl = buf.indexOf("\n")) >= 0) {
                onLine(buf.slice(0, nl))
                buf = buf.slice(nl + 1)
            }
        }
        child.stdout.on("data", feed)
        child.stderr.on("data", feed)
        child.on("close", code => {
            if (buf) onLine(buf)
            resolve(code)
        })
    })
}

let passed = 0
let failed = 0

async function vmSuite(entry) {
    let summary = null
    const code = await run(
        process.execPath,
        [CLI, "--no-colors", "run", entry, "--test", "--test-self-exit", "--test-timeout", String(VM_TIMEOUT_MS)],
        line => {
            console.log(line)
            const m = line.match(/tests: (\d+), pass: (\d+), error: (\d+)/)
            if (m) summary = { total: +m[1], pass: +m[2], error: +m[3] }
        }
    )
    if (!summary) {
        // the VM died before reporting (panic, compile error, timeout): count the suite as failed
        failed++
        console.log(`VM suite ${entry}: no result (exit ${code})`)
        return
    }
    passed += summary.pass
    failed += summary.error + (code !== 0 && summary.error === 0 ? 1 : 0)
}

async function nodeSuites(list) {
    const code = await run(
        process.execPath,
        ["--test", "--test-reporter=spec", "--test-reporter-destination=stdout", "--test-reporter=tap",
         "--test-reporter-destination=.devicescript/node-tests.tap", "--test-concurrency=1", ...list],
        line => console.log(line)
    )
    const tap = fs.readFileSync(path.join(ROOT, ".devicescript/node-tests.tap"), "utf8")
    const count = key => Number((tap.match(new RegExp(`^# ${key} (\\d+)`, "m")) || [0, 0])[1])
    passed += count("pass")
    failed += count("fail") + count("cancelled")
    if (code !== 0 && count("fail") + count("cancelled") === 0) failed++
}

fs.mkdirSync(path.join(ROOT, ".devicescript"), { recursive: true })
if (!nodeOnly && !files.length) for (const e of VM_ENTRIES) await vmSuite(e)
if (!vmOnly) {
    const list = files.length
        ? files
        : ["test/node", "test/e2e"]
              .filter(d => fs.existsSync(path.join(ROOT, d)))
              .flatMap(d => fs.readdirSync(path.join(ROOT, d)).filter(f => f.endsWith(".test.mjs")).sort().map(f => `${d}/${f}`))
    if (list.length) await nodeSuites(list)
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
