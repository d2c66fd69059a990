// Dispatch of one ITCH 5.0 message to a handler, after an exact length check.
// The handler is a compile-time type: it implements `on(const View&)` for the
// views it cares about (messages.h); the others are accepted and skipped. No
// allocation, no virtual call, no exception. Counters belong to the caller's
// thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "itch/messages.h"

namespace fh::itch {

enum class DecodeStatus : uint8_t { Ok, UnknownType, BadLength, Empty };

struct DecodeCounters {
  uint64_t messages = 0;  // decoded with a known type and the exact length
  uint64_t unknownType = 0;
  uint64_t badLength = 0;  // includes zero-length messages
  std::array<uint64_t, 256> byType{};

  void count(DecodeStatus s, uint8_t type) noexcept {
    switch (s) {
      case DecodeStatus::Ok:
        ++messages;
        ++byType[type];
        break;
      case DecodeStatus::UnknownType:
        ++unknownType;
        break;
      case DecodeStatus::BadLength:
      case DecodeStatus::Empty:
        ++badLength;
        break;
    }
  }
};

template <class Handler>
inline DecodeStatus decode(const uint8_t* msg, size_t length, Handler& handler) noexcept {
  if (length == 0) return DecodeStatus::Empty;
  switch (static_cast<char>(msg[0])) {
#define FH_ITCH_DISPATCH(view, type, wireLength)                                  \
  case type:                                                                      \
    if (length != (wireLength)) return DecodeStatus::BadLength;                   \
    if constexpr (requires { handler.on(view{{msg}}); }) handler.on(view{{msg}}); \
    return DecodeStatus::Ok;
    FH_ITCH_MESSAGE_TYPES(FH_ITCH_DISPATCH)
#undef FH_ITCH_DISPATCH
    default:
      return DecodeStatus::UnknownType;
  }
}

}  // namespace fh::itch
