// The firmware's budgets (docs in tools/size.mjs): function code and strings of both
// images, and the heap high-water mark of a charging session, printed and checked.
import { test } from "node:test"
import assert from "node:assert/strict"
import { measureCode, measureHeap, FUNCTION_BUDGET_BYTES, HEAP_BUDGET_BYTES } from "../../tools/size.mjs"

test("both images build and fit the function-code budget", async () => {
    for (const f of await measureCode()) {
        console.log(f.text)
        assert.ok(f.functionBytes <= FUNCTION_BUDGET_BYTES, f.text)
        assert.ok(f.ok, f.text)
    }
})

test("a charging session fits the heap budget", { timeout: 600000 }, async () => {
    const h = await measureHeap({ step: 2048 })
    console.log(h.text)
    assert.ok(h.peak <= HEAP_BUDGET_BYTES, h.text)
})
