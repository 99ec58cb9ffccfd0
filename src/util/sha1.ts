// SHA-1 (FIPS 180-4): the runtime only has SHA-256, and RFC 6455 needs SHA-1 to check
// Sec-WebSocket-Accept. Input must stay small (about 80 VM ops per byte, no yields).

function rol(x: number, n: number) {
    return (x << n) | (x >>> (32 - n))
}

/** SHA-1 digest (20 bytes) of a short buffer. */
export function sha1(data: Buffer): Buffer {
    const len = data.length
    const blocks = ((len + 8) >> 6) + 1
    const msg = Buffer.alloc(blocks * 64)
    msg.blitAt(0, data, 0, len)
    msg[len] = 0x80
    // bit length, big-endian; inputs here are far below 2^29 bytes
    const bits = len * 8
    const end = blocks * 64
    msg[end - 4] = (bits >>> 24) & 255
    msg[end - 3] = (bits >>> 16) & 255
    msg[end - 2] = (bits >>> 8) & 255
    msg[end - 1] = bits & 255
    let h0 = 0x67452301
    let h1 = 0xefcdab89 | 0
    let h2 = 0x98badcfe | 0
    let h3 = 0x10325476
    let h4 = 0xc3d2e1f0 | 0
    const w: number[] = []
    for (let off = 0; off < end; off += 64) {
        for (let t = 0; t < 80; t++) {
            if (t < 16) {
                const p = off + t * 4
                w[t] = (msg[p] << 24) | (msg[p + 1] << 16) | (msg[p + 2] << 8) | msg[p + 3]
            } else w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1)
        }
        let a = h0
        let b = h1
        let c = h2
        let d = h3
        let e = h4
        for (let t = 0; t < 80; t++) {
            let f: number
            let k: number
            if (t < 20) {
                f = (b & c) | (~b & d)
                k = 0x5a827999
            } else if (t < 40) {
                f = b ^ c ^ d
                k = 0x6ed9eba1
            } else if (t < 60) {
                f = (b & c) | (b & d) | (c & d)
                k = 0x8f1bbcdc | 0
            } else {
                f = b ^ c ^ d
                k = 0xca62c1d6 | 0
            }
            const tmp = (rol(a, 5) + f + e + k + w[t]) | 0
            e = d
            d = c
            c = rol(b, 30)
            b = a
            a = tmp
        }
        h0 = (h0 + a) | 0
        h1 = (h1 + b) | 0
        h2 = (h2 + c) | 0
        h3 = (h3 + d) | 0
        h4 = (h4 + e) | 0
    }
    const out = Buffer.alloc(20)
    const hs = [h0, h1, h2, h3, h4]
    for (let i = 0; i < 5; i++) {
        const h = hs[i]
        out[i * 4] = (h >>> 24) & 255
        out[i * 4 + 1] = (h >>> 16) & 255
        out[i * 4 + 2] = (h >>> 8) & 255
        out[i * 4 + 3] = h & 255
    }
    return out
}
