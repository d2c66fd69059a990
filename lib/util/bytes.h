// Big-endian field reads and writes on wire buffers: fixed-width, unaligned,
// no copies beyond the field itself. Pure functions; safe from any thread.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace fh {

static_assert(std::endian::native == std::endian::little, "fh assumes a little-endian host");

inline uint16_t loadBe16(const uint8_t* p) noexcept {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap16(v);
}

inline uint32_t loadBe32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap32(v);
}

inline uint64_t loadBe64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap64(v);
}

// ITCH timestamps are 6 bytes: nanoseconds since midnight.
inline uint64_t loadBe48(const uint8_t* p) noexcept { return (uint64_t{loadBe16(p)} << 32) | loadBe32(p + 2); }

// Any width from 1 to 8 bytes; for generic (table-driven) field access.
inline uint64_t loadBeN(const uint8_t* p, size_t width) noexcept {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v = (v << 8) | p[i];
  return v;
}

inline void storeBe16(uint8_t* p, uint16_t v) noexcept {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, sizeof v);
}

inline void storeBe32(uint8_t* p, uint32_t v) noexcept {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}

inline void storeBe64(uint8_t* p, uint64_t v) noexcept {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof v);
}

inline void storeBe48(uint8_t* p, uint64_t v) noexcept {
  storeBe16(p, static_cast<uint16_t>(v >> 32));
  storeBe32(p + 2, static_cast<uint32_t>(v));
}

inline void storeBeN(uint8_t* p, size_t width, uint64_t v) noexcept {
  for (size_t i = width; i-- > 0;) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

// Space-padded Alpha field without its trailing spaces.
inline std::string_view alphaTrimmed(const uint8_t* p, size_t width) noexcept {
  while (width > 0 && p[width - 1] == ' ') --width;
  return {reinterpret_cast<const char*>(p), width};
}

}  // namespace fh
