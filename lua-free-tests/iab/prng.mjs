// The seeded random numbers both vector scripts draw their fields from:
// mulberry32, small and the same sequence on every node.

export function seeded(seed) {
    let state = seed >>> 0;

    function rand() {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }

    const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

    return { rand, int };
}
