/*
 * The one 64-bit hash every sketch key goes through: XXH3 (libxxhash), seeded.
 * Callers hash whole keys (full address, full port pair, whole qname): a hash
 * of a prefix would fold unrelated keys together (DESIGN.md, Performance).
 *
 * Seeds. A per-process or per-region random seed is the right choice for hash
 * tables that face hostile keys (flow tables), but it is wrong for anything
 * that is merged: a HyperLogLog register records "some key hashed here with
 * this many leading zeros", and two sketches can only be combined by register
 * max when the same key lands in the same register with the same value in
 * both. Sketches of different workers, windows and sensors of a fleet are all
 * merged, so they all hash with the one fixed PV_HLL_SEED, forever. Changing
 * it (or the hash function) makes every stored and remote sketch unmergeable
 * with new ones: do it only together with a bump of PV_HLL_VERSION
 * (shm/hll.h), which makes pv_hll_check() refuse the old images.
 */
#ifndef PV_HASH_H
#define PV_HASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * xxhash.h in its header-only mode: XXH3 of a 4..16-byte key then compiles to
 * a dozen inline instructions, where a call into libxxhash.so costs ~3 ns
 * more (PLT, prologue, length dispatch) and is paid for several keys of
 * every packet. Same header, same function, same output. The mode is scoped
 * to this include, so a later plain #include <xxhash.h> (sensor/flowhash.h)
 * still declares the library's symbols; either order compiles.
 */
#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#define PV_HASH_UNDEF_INLINE_ALL
#endif
#include <xxhash.h>
#ifdef PV_HASH_UNDEF_INLINE_ALL
#undef XXH_INLINE_ALL
#undef PV_HASH_UNDEF_INLINE_ALL
#endif

/*
 * Fixed seed of every cardinality sketch: the 64-bit golden ratio
 * (2^64 / phi), a well-known constant nobody needs to look up elsewhere. Its
 * value has no cryptographic role: an attacker who can choose keys can always
 * inflate a distinct count by sending distinct keys, which is the thing being
 * measured anyway.
 */
#define PV_HLL_SEED 0x9e3779b97f4a7c15ull

/* XXH3_64bits_withSeed: stable across versions and platforms by the xxHash
 * specification (XXH3 output is frozen since 0.8.0), so sketches built on
 * different hosts agree. */
static inline uint64_t pv_hash64(const void *p, size_t n, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, n, seed);
}

#endif
