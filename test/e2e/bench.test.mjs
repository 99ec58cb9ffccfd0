// The web bench in a real browser (Debian's chromium driven by playwright-core): the page
// of `npm start` drives a whole charging session and shows it, with the OCPP traffic.
import { test } from "node:test"
import assert from "node:assert/strict"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"
import { startMain } from "../../tools/start.mjs"
import { waitFor } from "./harness.mjs"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium"
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"]

test("web bench: plug, card, charge, energy, price screen, StartTransaction in the log, unplug, screenshot", { timeout: 240000 }, async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`)
    const id = `CP-BENCH-${process.pid}`
    const main = await startMain({ csmsPort: 0, apiPort: 0, id, quiet: !process.env.E2E_VERBOSE })
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "wallbox-bench-chromium-"))
    let ctx
    try {
        ctx = await chromium.launchPersistentContext(profile, {
            executablePath: CHROMIUM,
            headless: true,
            args: ARGS,
            viewport: { width: 1280, height: 800 },
        })
        const page = ctx.pages()[0] ?? (await ctx.newPage())
        const problems = []
        page.on("pageerror", e => problems.push(e.message))
        page.on("console", m => m.type() === "error" && problems.push(m.text()))
        await page.goto(main.url)
        await page.getByRole("heading", { name: /Open Wallbox/ }).waitFor()
        const text = sel => page.locator(sel).innerText()

        // online and Available, and the central system's commissioning applied (cards needed)
        await page.locator("#phase[data-phase=online]").waitFor({ timeout: 90000 })
        await page.locator("#v-status", { hasText: "Available" }).waitFor({ timeout: 60000 })
        await waitFor(() => main.csms.configured[id], { what: "commissioning", timeout: 30000 })
        assert.equal(await text("#cp-id"), id)

        // the price screen (CTEP, seed §6.2.2): switched on and given a default price from the page
        await page.getByRole("button", { name: "CTEP on" }).click()
        await page.locator("#csms-result", { hasText: "Accepted" }).waitFor({ timeout: 15000 })
        await page.getByRole("button", { name: "DefaultPrice" }).click()
        await page.locator("#v-price", { hasText: "0.15 $/kWh" }).waitFor({ timeout: 15000 })

        await page.getByRole("button", { name: "Plug in" }).click()
        await page.locator("#v-status", { hasText: "Preparing" }).waitFor({ timeout: 20000 })
        await page.getByRole("button", { name: "04A1B2C3" }).click()
        await page.locator("#v-tag", { hasText: "04A1B2C3" }).waitFor({ timeout: 20000 })
        await page.getByLabel("EV max current (A)").fill("10")
        await page.getByRole("button", { name: "Request charge" }).click()
        await page.locator("#v-contactor", { hasText: "closed" }).waitFor({ timeout: 30000 })
        await page.locator("#v-status", { hasText: "Charging" }).waitFor({ timeout: 30000 })
        assert.match(await text("#v-tx"), /^\d+$/)

        // energy rises in the page
        const wh = async () => Number((await text("#v-energy")).replace(/[^0-9]/g, ""))
        const e0 = await wh()
        await waitFor(async () => (await wh()) > e0 + 2, { what: "energy rising in the page", timeout: 30000 })
        assert.match(await text("#v-current"), /^(9|10)(\.\d)? A$/)
        await page.getByRole("button", { name: "RunningCost" }).click()
        await page.locator("#v-price", { hasText: "0.123/kWh" }).waitFor({ timeout: 15000 })
        assert.match(await text("#v-cost"), /^\d+\.\d\d$/)

        // the OCPP log shows StartTransaction, its answer linked to it
        const start = page.locator('#log li[data-action="StartTransaction"][data-type="call"]')
        await start.first().waitFor({ timeout: 20000 })
        await start.first().locator("button").click()
        await page.locator('#log li.hl[data-action="StartTransaction"][data-type="result"]').waitFor()
        assert.match(await start.first().locator("pre").innerText(), /"idTag": "04A1B2C3"/)
        // the filter hides the rest
        await page.getByLabel("Filter").fill("StartTransaction")
        assert.equal(await page.locator('#log li:not([hidden])').count(), 2)
        await page.getByLabel("Filter").fill("")

        // a central-system command answers in the page
        await page.getByRole("button", { name: "GetConfiguration", exact: true }).click()
        await page.locator("#csms-result", { hasText: "MeterValueSampleInterval" }).waitFor({ timeout: 15000 })

        // let the chart show some current; a picture of the session for the README
        await new Promise(r => setTimeout(r, 2000))
        fs.mkdirSync(path.join(ROOT, "artifacts"), { recursive: true })
        await page.evaluate(() => window.scrollTo(0, 0))
        await page.screenshot({ path: path.join(ROOT, "artifacts/bench-charging.png") })
        await page.getByRole("button", { name: "Unplug" }).click()
        await page.locator("#v-contactor", { hasText: "open" }).waitFor({ timeout: 20000 })
        await page.locator('#log li[data-action="StopTransaction"]').first().waitFor({ timeout: 20000 })
        await page.locator("#v-status", { hasText: "Available" }).waitFor({ timeout: 30000 })

        await page.screenshot({ path: path.join(ROOT, "artifacts/bench.png"), fullPage: true })
        // phone width: one column, no horizontal scrolling
        await page.setViewportSize({ width: 390, height: 844 })
        await page.waitForTimeout(300)
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
        assert.ok(overflow <= 1, `the page scrolls sideways at 390 px (${overflow} px)`)
        await page.screenshot({ path: path.join(ROOT, "artifacts/bench-phone.png"), fullPage: true })
        assert.deepEqual(problems, [], "errors in the page")
        assert.deepEqual(main.csms.errors.filter(e => e.identity === id), [], "the central system saw protocol errors")
    } finally {
        await ctx?.close().catch(() => {})
        await main.stop()
        fs.rmSync(profile, { recursive: true, force: true })
    }
})
