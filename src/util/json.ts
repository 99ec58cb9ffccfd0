// JSON output that survives non-ASCII text. The runtime's JSON.stringify escapes each
// UTF-8 byte of a non-ASCII character on its own ("é" → "\u00c3\u00a9"); this puts the
// real characters back. Escapes \u0080-\u00ff can only come from that defect, because
// every non-ASCII character is emitted as such byte escapes.
import { hexDigit } from "./encoding"

function byteEscapeAt(s: string, i: number) {
    // "\u00XX" with XX ≥ 0x80 → byte value, else -1
    if (s.charCodeAt(i + 1) !== 117 || s.charCodeAt(i + 2) !== 48 || s.charCodeAt(i + 3) !== 48) return -1
    const hi = hexDigit(s.charCodeAt(i + 4))
    const lo = hexDigit(s.charCodeAt(i + 5))
    if (hi < 8 || lo < 0) return -1
    return (hi << 4) | lo
}

/** JSON.stringify with correct UTF-8 strings. */
export function toJson(v: any) {
    const s = JSON.stringify(v)
    if (s.indexOf("\\u00") < 0) return s
    const out: string[] = []
    let from = 0
    let i = s.indexOf("\\", 0)
    while (i >= 0) {
        if (byteEscapeAt(s, i) < 0) {
            // any other escape: skip it whole so "\\u00e9" typed as text stays text
            i = s.indexOf("\\", i + 2)
            continue
        }
        out.push(s.slice(from, i))
        let n = 0
        while (byteEscapeAt(s, i + n * 6) >= 0) n++
        const bytes = Buffer.alloc(n)
        for (let k = 0; k < n; k++) bytes[k] = byteEscapeAt(s, i + k * 6)
        out.push(bytes.toString("utf-8"))
        from = i + n * 6
        i = s.indexOf("\\", from)
    }
    out.push(s.slice(from))
    return out.join("")
}
