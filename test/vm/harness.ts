// Shared helpers for the VM suites.
import * as ds from "@devicescript/core"

/**
 * The test runner does not yield between tests, and the VM allows about 128 K
 * operations per slice: every describe() starts its tests with beforeEach(yieldSlice).
 */
export async function yieldSlice() {
    await ds.sleep(1)
}
