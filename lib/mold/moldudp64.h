// MoldUDP64 downstream packets: a 20-byte header (session, sequence of the
// first message, message count) and `count` blocks of a 2-byte length and a
// message. Every length is checked against the end of the packet before it is
// read. Heartbeats carry count 0 and end of session 0xFFFF; neither carries
// messages. Pure functions over a caller's buffer; safe from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "util/bytes.h"

namespace fh::mold {

inline constexpr size_t kHeaderLength = 20;
inline constexpr size_t kSessionLength = 10;
inline constexpr uint16_t kEndOfSessionCount = 0xFFFF;

enum class PacketKind : uint8_t {
  Messages,      // count >= 1 and every block within the packet
  Heartbeat,     // count 0, nothing after the header
  EndOfSession,  // count 0xFFFF, nothing after the header
  Truncated,     // shorter than the header
  Overrun,       // a block's length runs past the end, or fewer blocks than count
  Trailing,      // bytes left over after the last block (or after a heartbeat)
};

struct PacketHeader {
  std::array<char, kSessionLength> session;
  uint64_t sequence;  // sequence number of the first message block
  uint16_t count;

  // Session without trailing spaces and NULs (an all-NUL session is "").
  std::string_view sessionTrimmed() const noexcept {
    size_t n = session.size();
    while (n > 0 && (session[n - 1] == ' ' || session[n - 1] == '\0')) --n;
    return {session.data(), n};
  }
};

struct PacketResult {
  PacketKind kind;
  PacketHeader header;
  uint16_t blocks;  // complete message blocks handed to the callback

  bool malformed() const noexcept {
    return kind == PacketKind::Truncated || kind == PacketKind::Overrun || kind == PacketKind::Trailing;
  }
};

inline PacketHeader readHeader(const uint8_t* p) noexcept {
  PacketHeader h;
  for (size_t i = 0; i < kSessionLength; ++i) h.session[i] = static_cast<char>(p[i]);
  h.sequence = loadBe64(p + 10);
  h.count = loadBe16(p + 18);
  return h;
}

// Calls onMessage(uint64_t sequence, const uint8_t* message, uint16_t length)
// for each complete block, in order. When the blocks overrun the packet, the
// complete blocks before the overrun are still delivered.
template <class OnMessage>
inline PacketResult forEachMessage(std::span<const uint8_t> packet, OnMessage&& onMessage) noexcept {
  PacketResult r{PacketKind::Truncated, {}, 0};
  if (packet.size() < kHeaderLength) return r;
  const uint8_t* p = packet.data();
  const uint8_t* const end = p + packet.size();
  r.header = readHeader(p);
  p += kHeaderLength;

  if (r.header.count == 0 || r.header.count == kEndOfSessionCount) {
    r.kind = p != end ? PacketKind::Trailing : r.header.count == 0 ? PacketKind::Heartbeat : PacketKind::EndOfSession;
    return r;
  }
  uint64_t sequence = r.header.sequence;
  for (uint16_t i = 0; i < r.header.count; ++i) {
    if (end - p < 2) {
      r.kind = PacketKind::Overrun;
      return r;
    }
    const uint16_t length = loadBe16(p);
    if (static_cast<size_t>(end - p - 2) < length) {
      r.kind = PacketKind::Overrun;
      return r;
    }
    onMessage(sequence++, p + 2, length);
    p += 2 + length;
    ++r.blocks;
  }
  r.kind = p == end ? PacketKind::Messages : PacketKind::Trailing;
  return r;
}

struct PacketCounters {
  uint64_t packets = 0;
  uint64_t heartbeats = 0;
  uint64_t endOfSession = 0;
  uint64_t truncated = 0;
  uint64_t overrun = 0;
  uint64_t trailing = 0;

  void count(PacketKind k) noexcept {
    ++packets;
    switch (k) {
      case PacketKind::Messages:
        break;
      case PacketKind::Heartbeat:
        ++heartbeats;
        break;
      case PacketKind::EndOfSession:
        ++endOfSession;
        break;
      case PacketKind::Truncated:
        ++truncated;
        break;
      case PacketKind::Overrun:
        ++overrun;
        break;
      case PacketKind::Trailing:
        ++trailing;
        break;
    }
  }
  uint64_t malformed() const noexcept { return truncated + overrun + trailing; }
};

// Builds one downstream packet in a caller's buffer (fhsim, tests, fuzz seeds).
class PacketBuilder {
 public:
  PacketBuilder(std::span<uint8_t> buffer, std::string_view session, uint64_t sequence) noexcept
      : buf_(buffer), used_(kHeaderLength), sequence_(sequence) {
    for (size_t i = 0; i < kSessionLength; ++i)
      session_[i] = i < session.size() ? static_cast<uint8_t>(session[i]) : uint8_t{' '};
  }

  // False (and nothing written) when the block would not fit.
  bool add(std::span<const uint8_t> message) noexcept {
    if (message.size() > 0xFFFF || count_ == kEndOfSessionCount - 1 || buf_.size() < used_ + 2 + message.size())
      return false;
    storeBe16(buf_.data() + used_, static_cast<uint16_t>(message.size()));
    if (!message.empty()) std::memcpy(buf_.data() + used_ + 2, message.data(), message.size());
    used_ += 2 + message.size();
    ++count_;
    return true;
  }

  uint16_t count() const noexcept { return count_; }
  size_t size() const noexcept { return used_; }

  // The finished packet; a heartbeat when nothing was added; empty when the
  // buffer cannot hold even the header.
  std::span<const uint8_t> finish(bool endOfSession = false) noexcept {
    if (buf_.size() < kHeaderLength) return {};
    uint8_t* p = buf_.data();
    std::memcpy(p, session_.data(), kSessionLength);
    storeBe64(p + 10, sequence_);
    storeBe16(p + 18, endOfSession ? kEndOfSessionCount : count_);
    return buf_.first(endOfSession ? kHeaderLength : used_);
  }

 private:
  std::span<uint8_t> buf_;
  std::array<uint8_t, kSessionLength> session_{};
  size_t used_;
  uint64_t sequence_;
  uint16_t count_ = 0;
};

}  // namespace fh::mold
