// Byte encodings the runtime lacks: base64 (HTTP Basic, WebSocket key) and hex.

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

/** Standard base64 with padding. Inputs here are short (keys, credentials). */
export function base64Encode(buf: Buffer) {
    const out: string[] = []
    const n = buf.length
    for (let i = 0; i < n; i += 3) {
        const b1 = i + 1 < n ? buf[i + 1] : 0
        const b2 = i + 2 < n ? buf[i + 2] : 0
        const v = (buf[i] << 16) | (b1 << 8) | b2
        out.push(
            B64[v >> 18] +
                B64[(v >> 12) & 63] +
                (i + 1 < n ? B64[(v >> 6) & 63] : "=") +
                (i + 2 < n ? B64[v & 63] : "=")
        )
    }
    return out.join("")
}

/** Value of one hex digit, or -1. */
export function hexDigit(c: number) {
    if (c >= 48 && c <= 57) return c - 48
    c |= 32
    if (c >= 97 && c <= 102) return c - 87
    return -1
}

/** Bytes of an even-length hex string, or undefined when it is not one. */
export function hexDecode(s: string): Buffer {
    if (s.length & 1) return undefined
    const out = Buffer.alloc(s.length >> 1)
    for (let i = 0; i < out.length; i++) {
        const hi = hexDigit(s.charCodeAt(2 * i))
        const lo = hexDigit(s.charCodeAt(2 * i + 1))
        if (hi < 0 || lo < 0) return undefined
        out[i] = (hi << 4) | lo
    }
    return out
}

/** "0x" and four uppercase hex digits of a 16-bit value (vendor error codes). */
export function hex16(v: number) {
    const HEX = "0123456789ABCDEF"
    return "0x" + HEX[(v >> 12) & 15] + HEX[(v >> 8) & 15] + HEX[(v >> 4) & 15] + HEX[v & 15]
}
