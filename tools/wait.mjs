// Waiting helpers for the tools and benchmarks.

export const sleep = ms => new Promise(r => setTimeout(r, ms))

/** Poll pred() every 50 ms until it is true; throws after `ms` with what was awaited. */
export async function until(pred, what, ms = 60000) {
    const t0 = Date.now()
    while (!(await pred())) {
        if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`)
        await sleep(50)
    }
}
