// Starts loading a cache line: the hint every hot path of fh uses.
#pragma once

namespace fh {

// Written out as an instruction on x86-64 because GCC 12 at -O3 drops
// __builtin_prefetch from inlined hints (the book's top-of-book prefetch and
// the region's book-slot prefetch were never emitted).
inline void prefetchLine(const void* p) noexcept {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

// The same for a line about to be written: fetched for ownership, so that the
// store need not ask again. PREFETCHW is a no-op on x86-64 CPUs without it.
inline void prefetchWrite(const void* p) noexcept {
#if defined(__x86_64__)
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 1);
#endif
}

}  // namespace fh
