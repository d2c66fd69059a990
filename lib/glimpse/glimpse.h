// Nasdaq GLIMPSE 5.0: the snapshot of TotalView-ITCH 5.0 over SoupBinTCP. A
// client logs in for sequence 1 and receives, as sequenced messages, ITCH 5.0
// messages that describe the book as it stands (System Event, Stock
// Directory, Stock Trading Action, Reg SHO, and one Add Order for every
// resting order), then an End of Snapshot message.
//
// End of Snapshot, as read here (the uncertain point of the specification):
//   offset 0, 1 byte:   message type 'M'
//   offset 1, 20 bytes: sequence number, ASCII digits right-justified and
//                       padded on the left with spaces (SoupBinTCP's numeric form)
// and the sequence number is that of the FIRST TotalView-ITCH message the
// snapshot does not include: the one at which to begin applying the
// multicast (a snapshot of an empty day says 1). Sources: the GLIMPSE 3.1f
// specification says the snapshot message is sent "to denote where firms
// should begin processing real-time updates"; the copies of the GLIMPSE 5.0
// specification found for this project list a "Snapshot Message" (section
// 1.7) after the order messages, but not its layout, which is taken here as
// the project's issue states it (type 'M', a 20-byte ASCII number). A client that
// follows this reading detects the off-by-one of the other one: the first
// multicast message it applies would then be already in the snapshot (an Add
// of a live order) or the one before its first (an execution of an order not
// yet known), and it counts those. fhsim's GLIMPSE server follows this reading.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "soup/soupbintcp.h"

namespace fh::glimpse {

inline constexpr char kEndOfSnapshot = 'M';
inline constexpr size_t kEndOfSnapshotLength = 1 + soup::kSequenceLength;

inline std::array<uint8_t, kEndOfSnapshotLength> encodeEndOfSnapshot(uint64_t nextSequence) {
  std::vector<uint8_t> field;
  soup::appendNumeric(field, nextSequence, soup::kSequenceLength);
  std::array<uint8_t, kEndOfSnapshotLength> m{};
  m[0] = static_cast<uint8_t>(kEndOfSnapshot);
  std::copy(field.begin(), field.end(), m.begin() + 1);
  return m;
}

// The sequence of the first multicast message to apply, or nullopt when
// `message` is not a well-formed End of Snapshot.
inline std::optional<uint64_t> parseEndOfSnapshot(std::span<const uint8_t> message) {
  if (message.size() != kEndOfSnapshotLength || message[0] != static_cast<uint8_t>(kEndOfSnapshot)) return std::nullopt;
  return soup::parseNumeric(message.subspan(1));
}

}  // namespace fh::glimpse
