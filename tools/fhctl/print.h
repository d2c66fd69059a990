// Printing of ITCH messages for people (text) and for tools (JSON Lines, the
// exact form of shared/spec/decode-jsonl.md), into a caller's output buffer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "itch/fields.h"

namespace fh::ctl {

// Buffered output to a FILE*, flushed when large and at destruction.
class Output {
 public:
  explicit Output(std::FILE* f) : f_(f) { buf_.reserve(1 << 16); }
  ~Output() { flush(); }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void put(char c) { buf_.push_back(c); }
  void put(std::string_view s) { buf_.append(s); }
  void putUnsigned(uint64_t v);
  void endLine() {
    buf_.push_back('\n');
    if (buf_.size() >= (1 << 16)) flush();
  }
  void flush();
  bool failed() const { return failed_; }

 private:
  std::FILE* f_;
  std::string buf_;
  bool failed_ = false;
};

struct MessageOrigin {
  uint64_t sequence;
  std::string_view session;
  bool hasSession;  // false for BinaryFILE records
};

// A JSON string: quotes and backslashes escaped, bytes outside printable
// ASCII as \u00XX.
void putJsonString(Output& out, std::string_view s);

// The message must already have passed itch::decode (known type, exact length).
void printJsonl(Output& out, const MessageOrigin& origin, const uint8_t* msg, const itch::MessageLayout& layout);
void printText(Output& out, const MessageOrigin& origin, const uint8_t* msg, const itch::MessageLayout& layout);

// A Price(4) value as an exact decimal with no trailing zeros: 1829100 -> "182.91".
std::string decimalPrice4(uint32_t price);
// A DBN price (units of 1e-9) the same way: 182910000000 -> "182.91"; UNDEF_PRICE -> "null".
std::string decimalPrice9(int64_t price);
// Nanoseconds since midnight as HH:MM:SS.nnnnnnnnn.
std::string timeOfDay(uint64_t ns);

}  // namespace fh::ctl
