// Nasdaq TotalView-ITCH 5.0 messages as zero-copy views over the wire bytes.
// A view holds a pointer into the packet (or file) buffer and reads each
// big-endian field in place when asked; it never copies the message. Views are
// only made by the decoder after the length check, so every accessor is in
// bounds. Pure values: any thread may use them while the buffer lives.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/bytes.h"

namespace fh::itch {

// X(ViewName, type character, exact wire length), in the order of the spec.
#define FH_ITCH_MESSAGE_TYPES(X)        \
  X(SystemEvent, 'S', 12)               \
  X(StockDirectory, 'R', 39)            \
  X(StockTradingAction, 'H', 25)        \
  X(RegShoRestriction, 'Y', 20)         \
  X(MarketParticipantPosition, 'L', 26) \
  X(MwcbDeclineLevel, 'V', 35)          \
  X(MwcbStatus, 'W', 12)                \
  X(IpoQuotingPeriodUpdate, 'K', 28)    \
  X(LuldAuctionCollar, 'J', 35)         \
  X(OperationalHalt, 'h', 21)           \
  X(AddOrder, 'A', 36)                  \
  X(AddOrderMpid, 'F', 40)              \
  X(OrderExecuted, 'E', 31)             \
  X(OrderExecutedWithPrice, 'C', 36)    \
  X(OrderCancel, 'X', 23)               \
  X(OrderDelete, 'D', 19)               \
  X(OrderReplace, 'U', 35)              \
  X(Trade, 'P', 44)                     \
  X(CrossTrade, 'Q', 40)                \
  X(BrokenTrade, 'B', 19)               \
  X(NetOrderImbalance, 'I', 50)         \
  X(RetailInterest, 'N', 20)            \
  X(DirectListingPriceDiscovery, 'O', 48)

inline constexpr size_t kMessageTypeCount = 23;
inline constexpr size_t kMaxMessageLength = 50;
inline constexpr size_t kHeaderLength = 11;  // type, locate, tracking, timestamp

// Exact wire length by type byte; 0 for a type the specification does not define.
inline constexpr std::array<uint8_t, 256> kLengthByType = [] {
  std::array<uint8_t, 256> t{};
#define FH_ITCH_LENGTH_ENTRY(view, type, length) t[static_cast<uint8_t>(type)] = length;
  FH_ITCH_MESSAGE_TYPES(FH_ITCH_LENGTH_ENTRY)
#undef FH_ITCH_LENGTH_ENTRY
  return t;
}();

enum class Side : char { Buy = 'B', Sell = 'S' };

// Fields every message starts with.
struct MessageView {
  const uint8_t* p;

  char type() const noexcept { return static_cast<char>(p[0]); }
  uint16_t locate() const noexcept { return loadBe16(p + 1); }
  uint16_t tracking() const noexcept { return loadBe16(p + 3); }
  uint64_t timestamp() const noexcept { return loadBe48(p + 5); }

 protected:
  char ch(size_t offset) const noexcept { return static_cast<char>(p[offset]); }
  uint32_t u32(size_t offset) const noexcept { return loadBe32(p + offset); }
  uint64_t u64(size_t offset) const noexcept { return loadBe64(p + offset); }
  std::string_view alpha(size_t offset, size_t width) const noexcept { return alphaTrimmed(p + offset, width); }
};

struct SystemEvent : MessageView {
  char eventCode() const noexcept { return ch(11); }
};

struct StockDirectory : MessageView {
  std::string_view stock() const noexcept { return alpha(11, 8); }
  char marketCategory() const noexcept { return ch(19); }
  char financialStatus() const noexcept { return ch(20); }
  uint32_t roundLotSize() const noexcept { return u32(21); }
  char roundLotsOnly() const noexcept { return ch(25); }
  char issueClassification() const noexcept { return ch(26); }
  std::string_view issueSubtype() const noexcept { return alpha(27, 2); }
  char authenticity() const noexcept { return ch(29); }
  char shortSaleThreshold() const noexcept { return ch(30); }
  char ipoFlag() const noexcept { return ch(31); }
  char luldReferencePriceTier() const noexcept { return ch(32); }
  char etpFlag() const noexcept { return ch(33); }
  uint32_t etpLeverageFactor() const noexcept { return u32(34); }
  char inverseIndicator() const noexcept { return ch(38); }
};

struct StockTradingAction : MessageView {
  std::string_view stock() const noexcept { return alpha(11, 8); }
  char tradingState() const noexcept { return ch(19); }
  char reserved() const noexcept { return ch(20); }
  std::string_view reason() const noexcept { return alpha(21, 4); }
};

struct RegShoRestriction : MessageView {
  std::string_view stock() const noexcept { return alpha(11, 8); }
  char regShoAction() const noexcept { return ch(19); }
};

struct MarketParticipantPosition : MessageView {
  std::string_view mpid() const noexcept { return alpha(11, 4); }
  std::string_view stock() const noexcept { return alpha(15, 8); }
  char primaryMarketMaker() const noexcept { return ch(23); }
  char marketMakerMode() const noexcept { return ch(24); }
  char marketParticipantState() const noexcept { return ch(25); }
};

struct MwcbDeclineLevel : MessageView {  // Price(8)
  uint64_t level1() const noexcept { return u64(11); }
  uint64_t level2() const noexcept { return u64(19); }
  uint64_t level3() const noexcept { return u64(27); }
};

struct MwcbStatus : MessageView {
  char breachedLevel() const noexcept { return ch(11); }
};

struct IpoQuotingPeriodUpdate : MessageView {
  std::string_view stock() const noexcept { return alpha(11, 8); }
  uint32_t ipoQuotationReleaseTime() const noexcept { return u32(19); }
  char ipoQuotationReleaseQualifier() const noexcept { return ch(23); }
  uint32_t ipoPrice() const noexcept { return u32(24); }
};

struct LuldAuctionCollar : MessageView {
  std::string_view stock() const noexcept { return alpha(11, 8); }
  uint32_t referencePrice() const noexcept { return u32(19); }
  uint32_t upperPrice() const noexcept { return u32(23); }
  uint32_t lowerPrice() const noexcept { return u32(27); }
  uint32_t extension() const noexcept { return u32(31); }
};

struct OperationalHalt : MessageView {
  std::string_view stock() const noexcept { return alpha(11, 8); }
  char marketCode() const noexcept { return ch(19); }
  char haltAction() const noexcept { return ch(20); }
};

struct AddOrder : MessageView {
  uint64_t orderRef() const noexcept { return u64(11); }
  char side() const noexcept { return ch(19); }
  uint32_t shares() const noexcept { return u32(20); }
  std::string_view stock() const noexcept { return alpha(24, 8); }
  const uint8_t* stockRaw() const noexcept { return p + 24; }
  uint32_t price() const noexcept { return u32(32); }
};

struct AddOrderMpid : AddOrder {
  std::string_view attribution() const noexcept { return alpha(36, 4); }
};

struct OrderExecuted : MessageView {
  uint64_t orderRef() const noexcept { return u64(11); }
  uint32_t executedShares() const noexcept { return u32(19); }
  uint64_t matchNumber() const noexcept { return u64(23); }
};

struct OrderExecutedWithPrice : OrderExecuted {
  char printable() const noexcept { return ch(31); }
  uint32_t executionPrice() const noexcept { return u32(32); }
};

struct OrderCancel : MessageView {
  uint64_t orderRef() const noexcept { return u64(11); }
  uint32_t canceledShares() const noexcept { return u32(19); }
};

struct OrderDelete : MessageView {
  uint64_t orderRef() const noexcept { return u64(11); }
};

struct OrderReplace : MessageView {
  uint64_t originalOrderRef() const noexcept { return u64(11); }
  uint64_t newOrderRef() const noexcept { return u64(19); }
  uint32_t shares() const noexcept { return u32(27); }
  uint32_t price() const noexcept { return u32(31); }
};

struct Trade : MessageView {
  uint64_t orderRef() const noexcept { return u64(11); }
  char side() const noexcept { return ch(19); }
  uint32_t shares() const noexcept { return u32(20); }
  std::string_view stock() const noexcept { return alpha(24, 8); }
  uint32_t price() const noexcept { return u32(32); }
  uint64_t matchNumber() const noexcept { return u64(36); }
};

struct CrossTrade : MessageView {
  uint64_t shares() const noexcept { return u64(11); }
  std::string_view stock() const noexcept { return alpha(19, 8); }
  uint32_t crossPrice() const noexcept { return u32(27); }
  uint64_t matchNumber() const noexcept { return u64(31); }
  char crossType() const noexcept { return ch(39); }
};

struct BrokenTrade : MessageView {
  uint64_t matchNumber() const noexcept { return u64(11); }
};

struct NetOrderImbalance : MessageView {
  uint64_t pairedShares() const noexcept { return u64(11); }
  uint64_t imbalanceShares() const noexcept { return u64(19); }
  char imbalanceDirection() const noexcept { return ch(27); }
  std::string_view stock() const noexcept { return alpha(28, 8); }
  uint32_t farPrice() const noexcept { return u32(36); }
  uint32_t nearPrice() const noexcept { return u32(40); }
  uint32_t currentReferencePrice() const noexcept { return u32(44); }
  char crossType() const noexcept { return ch(48); }
  char priceVariationIndicator() const noexcept { return ch(49); }
};

struct RetailInterest : MessageView {
  std::string_view stock() const noexcept { return alpha(11, 8); }
  char interestFlag() const noexcept { return ch(19); }
};

struct DirectListingPriceDiscovery : MessageView {
  std::string_view stock() const noexcept { return alpha(11, 8); }
  char openEligibilityStatus() const noexcept { return ch(19); }
  uint32_t minimumAllowablePrice() const noexcept { return u32(20); }
  uint32_t maximumAllowablePrice() const noexcept { return u32(24); }
  uint32_t nearExecutionPrice() const noexcept { return u32(28); }
  uint64_t nearExecutionTime() const noexcept { return u64(32); }
  uint32_t lowerPriceRangeCollar() const noexcept { return u32(40); }
  uint32_t upperPriceRangeCollar() const noexcept { return u32(44); }
};

// Each view knows its wire type and length.
template <class View>
struct Traits;
#define FH_ITCH_TRAITS(view, type, length)           \
  template <>                                        \
  struct Traits<view> {                              \
    static constexpr char kType = type;              \
    static constexpr size_t kLength = length;        \
    static constexpr std::string_view kName = #view; \
  };
FH_ITCH_MESSAGE_TYPES(FH_ITCH_TRAITS)
#undef FH_ITCH_TRAITS

}  // namespace fh::itch
