// The documentation matches the code it describes.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

test("the README pin map is the board definition's", () => {
    const board = JSON.parse(fs.readFileSync(path.join(ROOT, "boards/wallbox_esp32.board.json"), "utf8"))
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8")
    const section = readme.slice(readme.indexOf("### Pin map"))
    const documented = {}
    // rows: | function | GPIO[ / GPIO...] | `NAME`[ / `NAME`...] or buzzer service `name` | ...
    for (const row of section.split("\n").filter(l => /^\| [^-]/.test(l)).slice(1)) {
        const cells = row.split("|").map(c => c.trim())
        const gpios = cells[2].split("/").map(s => Number(s.trim()))
        const names = [...cells[3].matchAll(/`([A-Za-z0-9_]+)`/g)].map(m => m[1])
        names.forEach((n, i) => (documented[n] = gpios[i]))
    }
    const defined = { ...board.pins }
    for (const s of board.$services) defined[s.name] = s.pin
    assert.deepEqual(documented, defined)
})

test("every control API route is documented in docs/simulator.md", async () => {
    const { controlRoutes } = await import("../../tools/sim/api.mjs")
    const doc = fs.readFileSync(path.join(ROOT, "docs/simulator.md"), "utf8")
    for (const route of Object.keys(controlRoutes({}))) {
        const [method, p] = route.split(" ")
        assert.ok(doc.includes(`${method} ${p}`), `${route} is not in docs/simulator.md`)
    }
})

test("docs/configuration.md is generated from the key registry", async () => {
    const { generate } = await import("../../tools/gen-config-doc.mjs")
    assert.equal(fs.readFileSync(path.join(ROOT, "docs/configuration.md"), "utf8"), generate(), "run node tools/gen-config-doc.mjs")
})
