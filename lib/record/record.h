// Normalized market-data records, the form consumers read (later from shared
// memory). Layouts follow Databento DBN's MBO (56 bytes) and MBP-1 (80 bytes)
// so that users' DBN tooling maps onto them field for field: i64 prices in
// units of 1e-9, ts_event/ts_recv in ns since the UNIX epoch. Plain data,
// trivially copyable; layout pinned by static_asserts.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace fh::record {

inline constexpr int64_t kPriceScale = 1'000'000'000;  // 1e-9 units per 1.0
inline constexpr int64_t kUndefPrice = INT64_MAX;      // no price (DBN's UNDEF_PRICE)
// ITCH Price(4) carries 4 implied decimals.
inline constexpr int64_t priceFromItch4(uint32_t p) noexcept { return int64_t{p} * 100'000; }

enum class RType : uint8_t { Mbp1 = 0x01, Status = 0x12, Mbo = 0xA0 };

enum class Action : char {
  Add = 'A',
  Cancel = 'C',  // partial (size = canceled shares) or full (size = remaining)
  Modify = 'M',
  Clear = 'R',
  Trade = 'T',  // a print not tied to a displayed resting order (hidden, cross)
  Fill = 'F',   // execution of a resting displayed order
  None = 'N',
};

enum class Side : char { Ask = 'A', Bid = 'B', None = 'N' };

namespace flags {
inline constexpr uint8_t kLast = 1u << 7;          // last record of an event for the instrument
inline constexpr uint8_t kTob = 1u << 6;           // top-of-book message
inline constexpr uint8_t kSnapshot = 1u << 5;      // from a snapshot/replay, not live
inline constexpr uint8_t kMbp = 1u << 4;           // aggregated price level
inline constexpr uint8_t kBadTsRecv = 1u << 3;     // ts_recv is not a receive time
inline constexpr uint8_t kMaybeBadBook = 1u << 2;  // book may be wrong (unrecovered gap)
}  // namespace flags

struct RecordHeader {
  uint8_t length;  // record length in units of 4 bytes
  RType rtype;
  uint16_t publisherId;
  uint32_t instrumentId;  // the feed's stock locate
  uint64_t tsEvent;       // exchange timestamp, ns since the UNIX epoch
};

struct MboMsg {
  RecordHeader hd;
  uint64_t orderId;
  int64_t price;
  uint32_t size;
  uint8_t flags;
  uint8_t channelId;
  Action action;
  Side side;
  uint64_t tsRecv;
  int32_t tsInDelta;
  uint32_t sequence;  // low 32 bits of the MoldUDP64 sequence (a trading day fits)
};

struct BidAskPair {
  int64_t bidPx;
  int64_t askPx;
  uint32_t bidSz;
  uint32_t askSz;
  uint32_t bidCt;
  uint32_t askCt;
};

struct Mbp1Msg {
  RecordHeader hd;
  int64_t price;  // of the event that changed the top of the book
  uint32_t size;
  Action action;
  Side side;
  uint8_t flags;
  uint8_t depth;  // level of the book the event touched (0 = top)
  uint64_t tsRecv;
  int32_t tsInDelta;
  uint32_t sequence;
  BidAskPair levels[1];
};

static_assert(sizeof(RecordHeader) == 16);
static_assert(offsetof(RecordHeader, instrumentId) == 4);
static_assert(offsetof(RecordHeader, tsEvent) == 8);

static_assert(sizeof(MboMsg) == 56);
static_assert(offsetof(MboMsg, orderId) == 16);
static_assert(offsetof(MboMsg, price) == 24);
static_assert(offsetof(MboMsg, size) == 32);
static_assert(offsetof(MboMsg, flags) == 36);
static_assert(offsetof(MboMsg, channelId) == 37);
static_assert(offsetof(MboMsg, action) == 38);
static_assert(offsetof(MboMsg, side) == 39);
static_assert(offsetof(MboMsg, tsRecv) == 40);
static_assert(offsetof(MboMsg, tsInDelta) == 48);
static_assert(offsetof(MboMsg, sequence) == 52);

static_assert(sizeof(BidAskPair) == 32);
static_assert(sizeof(Mbp1Msg) == 80);
static_assert(offsetof(Mbp1Msg, price) == 16);
static_assert(offsetof(Mbp1Msg, size) == 24);
static_assert(offsetof(Mbp1Msg, action) == 28);
static_assert(offsetof(Mbp1Msg, side) == 29);
static_assert(offsetof(Mbp1Msg, flags) == 30);
static_assert(offsetof(Mbp1Msg, depth) == 31);
static_assert(offsetof(Mbp1Msg, tsRecv) == 32);
static_assert(offsetof(Mbp1Msg, sequence) == 44);
static_assert(offsetof(Mbp1Msg, levels) == 48);

static_assert(std::is_trivially_copyable_v<MboMsg> && std::is_standard_layout_v<MboMsg>);
static_assert(std::is_trivially_copyable_v<Mbp1Msg> && std::is_standard_layout_v<Mbp1Msg>);

// A change of an instrument's trading state (ITCH H), or of the feed's view of
// a book (stale after an unrecovered gap): DBN's StatusMsg, 40 bytes.
enum class StatusAction : uint16_t {
  None = 0,
  Quoting = 3,  // quotation only
  Trading = 7,
  Halt = 8,
  Pause = 9,
};
// fh's reasons, beyond DBN's (which stop below 100).
enum class StatusReason : uint16_t {
  None = 0,
  BookStale = 100,      // the book may be wrong (MAYBE_BAD_BOOK) until rebuilt
  BookRecovered = 101,  // a stale book was rebuilt
  BookJoining = 102,    // the feed was joined in mid-session: the book is incomplete
};

struct StatusMsg {
  RecordHeader hd;
  uint64_t tsRecv;
  StatusAction action;
  StatusReason reason;
  uint16_t tradingEvent;
  char isTrading;  // 'Y', 'N' or '~' (unknown)
  char isQuoting;
  char isShortSellRestricted;
  uint8_t reserved[7];
};
static_assert(sizeof(StatusMsg) == 40);
static_assert(offsetof(StatusMsg, tsRecv) == 16);
static_assert(offsetof(StatusMsg, action) == 24);
static_assert(offsetof(StatusMsg, reason) == 26);
static_assert(offsetof(StatusMsg, isTrading) == 30);
static_assert(offsetof(StatusMsg, isShortSellRestricted) == 32);
static_assert(std::is_trivially_copyable_v<StatusMsg> && std::is_standard_layout_v<StatusMsg>);

// A record's bytes as its 8-byte words (little-endian), each assembled from
// the fields in registers. A writer that stores these needs no copy of the
// record in memory: a copy reads each word back just after its narrower
// fields were written, and the processor cannot forward those stores to
// the wider load, so each such word waits for the stores to reach the cache.
static_assert(std::endian::native == std::endian::little);
namespace words_detail {
constexpr uint64_t word(uint32_t low, uint32_t high) noexcept { return uint64_t{low} | uint64_t{high} << 32; }
constexpr uint32_t bytes4(uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3) noexcept {
  return uint32_t{b0} | uint32_t{b1} << 8 | uint32_t{b2} << 16 | uint32_t{b3} << 24;
}
constexpr uint64_t header(const RecordHeader& h) noexcept {
  return word(uint32_t{h.length} | uint32_t{static_cast<uint8_t>(h.rtype)} << 8 | uint32_t{h.publisherId} << 16,
              h.instrumentId);
}
}  // namespace words_detail

constexpr std::array<uint64_t, sizeof(MboMsg) / 8> words(const MboMsg& m) noexcept {
  using namespace words_detail;
  return {header(m.hd),
          m.hd.tsEvent,
          m.orderId,
          static_cast<uint64_t>(m.price),
          word(m.size, bytes4(m.flags, m.channelId, static_cast<uint8_t>(m.action), static_cast<uint8_t>(m.side))),
          m.tsRecv,
          word(static_cast<uint32_t>(m.tsInDelta), m.sequence)};
}
constexpr std::array<uint64_t, sizeof(Mbp1Msg) / 8> words(const Mbp1Msg& m) noexcept {
  using namespace words_detail;
  const BidAskPair& l = m.levels[0];
  return {header(m.hd),
          m.hd.tsEvent,
          static_cast<uint64_t>(m.price),
          word(m.size, bytes4(static_cast<uint8_t>(m.action), static_cast<uint8_t>(m.side), m.flags, m.depth)),
          m.tsRecv,
          word(static_cast<uint32_t>(m.tsInDelta), m.sequence),
          static_cast<uint64_t>(l.bidPx),
          static_cast<uint64_t>(l.askPx),
          word(l.bidSz, l.askSz),
          word(l.bidCt, l.askCt)};
}

// ITCH timestamps count nanoseconds from midnight in New York. This turns a
// trading date into the UNIX time of that midnight (US Eastern, with the DST
// rules in force since 2007), so ts_event = midnightNs + timestamp.
int64_t easternMidnightNs(int year, unsigned month, unsigned day) noexcept;

}  // namespace fh::record
