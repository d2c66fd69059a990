// Copies to and from shared memory as relaxed atomic 8-byte words, and the
// seqlock protocol over them. A reader may run concurrently with the writer:
// relaxed word accesses make that a well-defined race, and the seqlock (or the
// ring's tail-intent check) tells the reader whether what it copied is whole.
// After H.-J. Boehm, "Can seqlocks get along with programming language memory
// models?" (MSPC 2012).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace fh::shm {

// `bytes` is a multiple of 8 and both pointers are 8-byte aligned.
inline void storeWords(void* dst, const void* src, size_t bytes) noexcept {
  auto* d = static_cast<uint64_t*>(dst);
  const auto* s = static_cast<const uint64_t*>(src);
  for (size_t i = 0; i < bytes / 8; ++i) __atomic_store_n(d + i, s[i], __ATOMIC_RELAXED);
}

// The same for a size known at compile time: one store a word, no loop.
template <size_t Bytes>
inline void storeWords(void* dst, const void* src) noexcept {
  static_assert(Bytes % 8 == 0);
  auto* d = static_cast<uint64_t*>(dst);
  const auto* s = static_cast<const uint64_t*>(src);
  [&]<size_t... I>(std::index_sequence<I...>) { (__atomic_store_n(d + I, s[I], __ATOMIC_RELAXED), ...); }
  (std::make_index_sequence<Bytes / 8>{});
}

// The same from a source of any alignment and any length: the last word is
// zero-padded (`dst` has room for bytes rounded up to 8).
inline void storeBytes(void* dst, const void* src, size_t bytes) noexcept {
  auto* d = static_cast<uint64_t*>(dst);
  const auto* s = static_cast<const uint8_t*>(src);
  for (size_t i = 0; i < bytes / 8; ++i) {
    uint64_t w;
    std::memcpy(&w, s + 8 * i, 8);
    __atomic_store_n(d + i, w, __ATOMIC_RELAXED);
  }
  if (const size_t rest = bytes % 8; rest != 0) {
    uint64_t w = 0;
    std::memcpy(&w, s + bytes / 8 * 8, rest);
    __atomic_store_n(d + bytes / 8, w, __ATOMIC_RELAXED);
  }
}

inline void loadWords(void* dst, const void* src, size_t bytes) noexcept {
  auto* d = static_cast<uint64_t*>(dst);
  const auto* s = static_cast<const uint64_t*>(src);
  for (size_t i = 0; i < bytes / 8; ++i) d[i] = __atomic_load_n(s + i, __ATOMIC_RELAXED);
}

// Writer side: begin() makes seq odd before any data store, end() even after all.
inline uint64_t seqlockBegin(std::atomic<uint64_t>& seq) noexcept {
  const uint64_t s = seq.load(std::memory_order_relaxed) + 1;
  seq.store(s, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  return s;
}
inline void seqlockEnd(std::atomic<uint64_t>& seq, uint64_t begun) noexcept {
  seq.store(begun + 1, std::memory_order_release);
}

inline void cpuRelax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Reader side: copies `bytes` from `src` into `dst` until a copy is
// consistent, at most `tries` times. False when the writer kept the lock all
// along (it may have died in the middle of an update).
inline bool seqlockRead(const std::atomic<uint64_t>& seq, void* dst, const void* src, size_t bytes,
                        uint32_t tries = 1u << 20) noexcept {
  for (uint32_t i = 0; i < tries; ++i) {
    const uint64_t before = seq.load(std::memory_order_acquire);
    if (before & 1) {
      cpuRelax();
      continue;
    }
    loadWords(dst, src, bytes);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (seq.load(std::memory_order_relaxed) == before) return true;
  }
  return false;
}

}  // namespace fh::shm
