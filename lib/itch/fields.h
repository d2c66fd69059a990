// The field layout of every ITCH 5.0 message as data: name (as in
// spec/decode-jsonl.md), offset, width and kind. Drives the generic printers
// (JSON Lines, text) and the byte-level tests; the hot path uses the typed
// views of messages.h instead. Compile-time constants only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "itch/messages.h"

namespace fh::itch {

enum class FieldKind : uint8_t {
  Alpha,    // space-padded ASCII
  Integer,  // unsigned big-endian
  Price4,   // unsigned big-endian, 4 implied decimals
  Price8,   // unsigned big-endian, 8 implied decimals
  Time,     // the common 6-byte timestamp, ns since midnight
};

struct Field {
  std::string_view name;
  uint8_t offset;
  uint8_t width;
  FieldKind kind;
};

struct MessageLayout {
  char type;
  uint8_t length;
  std::string_view name;
  std::span<const Field> fields;  // all fields after the common header
};

namespace detail {
using K = FieldKind;
// clang-format off
inline constexpr Field kS[] = {{"event_code", 11, 1, K::Alpha}};
inline constexpr Field kR[] = {
    {"stock", 11, 8, K::Alpha}, {"market_category", 19, 1, K::Alpha},
    {"financial_status", 20, 1, K::Alpha}, {"round_lot_size", 21, 4, K::Integer},
    {"round_lots_only", 25, 1, K::Alpha}, {"issue_classification", 26, 1, K::Alpha},
    {"issue_subtype", 27, 2, K::Alpha}, {"authenticity", 29, 1, K::Alpha},
    {"short_sale_threshold", 30, 1, K::Alpha}, {"ipo_flag", 31, 1, K::Alpha},
    {"luld_reference_price_tier", 32, 1, K::Alpha}, {"etp_flag", 33, 1, K::Alpha},
    {"etp_leverage_factor", 34, 4, K::Integer}, {"inverse_indicator", 38, 1, K::Alpha}};
inline constexpr Field kH[] = {
    {"stock", 11, 8, K::Alpha}, {"trading_state", 19, 1, K::Alpha},
    {"reserved", 20, 1, K::Alpha}, {"reason", 21, 4, K::Alpha}};
inline constexpr Field kY[] = {{"stock", 11, 8, K::Alpha}, {"reg_sho_action", 19, 1, K::Alpha}};
inline constexpr Field kL[] = {
    {"mpid", 11, 4, K::Alpha}, {"stock", 15, 8, K::Alpha},
    {"primary_market_maker", 23, 1, K::Alpha}, {"market_maker_mode", 24, 1, K::Alpha},
    {"market_participant_state", 25, 1, K::Alpha}};
inline constexpr Field kV[] = {
    {"level1", 11, 8, K::Price8}, {"level2", 19, 8, K::Price8}, {"level3", 27, 8, K::Price8}};
inline constexpr Field kW[] = {{"breached_level", 11, 1, K::Alpha}};
inline constexpr Field kK[] = {
    {"stock", 11, 8, K::Alpha}, {"ipo_quotation_release_time", 19, 4, K::Integer},
    {"ipo_quotation_release_qualifier", 23, 1, K::Alpha}, {"ipo_price", 24, 4, K::Price4}};
inline constexpr Field kJ[] = {
    {"stock", 11, 8, K::Alpha}, {"auction_collar_reference_price", 19, 4, K::Price4},
    {"upper_auction_collar_price", 23, 4, K::Price4},
    {"lower_auction_collar_price", 27, 4, K::Price4},
    {"auction_collar_extension", 31, 4, K::Integer}};
inline constexpr Field kh[] = {
    {"stock", 11, 8, K::Alpha}, {"market_code", 19, 1, K::Alpha},
    {"operational_halt_action", 20, 1, K::Alpha}};
inline constexpr Field kA[] = {
    {"order_ref", 11, 8, K::Integer}, {"side", 19, 1, K::Alpha}, {"shares", 20, 4, K::Integer},
    {"stock", 24, 8, K::Alpha}, {"price", 32, 4, K::Price4}};
inline constexpr Field kF[] = {
    {"order_ref", 11, 8, K::Integer}, {"side", 19, 1, K::Alpha}, {"shares", 20, 4, K::Integer},
    {"stock", 24, 8, K::Alpha}, {"price", 32, 4, K::Price4}, {"attribution", 36, 4, K::Alpha}};
inline constexpr Field kE[] = {
    {"order_ref", 11, 8, K::Integer}, {"executed_shares", 19, 4, K::Integer},
    {"match_number", 23, 8, K::Integer}};
inline constexpr Field kC[] = {
    {"order_ref", 11, 8, K::Integer}, {"executed_shares", 19, 4, K::Integer},
    {"match_number", 23, 8, K::Integer}, {"printable", 31, 1, K::Alpha},
    {"execution_price", 32, 4, K::Price4}};
inline constexpr Field kX[] = {
    {"order_ref", 11, 8, K::Integer}, {"canceled_shares", 19, 4, K::Integer}};
inline constexpr Field kD[] = {{"order_ref", 11, 8, K::Integer}};
inline constexpr Field kU[] = {
    {"original_order_ref", 11, 8, K::Integer}, {"new_order_ref", 19, 8, K::Integer},
    {"shares", 27, 4, K::Integer}, {"price", 31, 4, K::Price4}};
inline constexpr Field kP[] = {
    {"order_ref", 11, 8, K::Integer}, {"side", 19, 1, K::Alpha}, {"shares", 20, 4, K::Integer},
    {"stock", 24, 8, K::Alpha}, {"price", 32, 4, K::Price4}, {"match_number", 36, 8, K::Integer}};
inline constexpr Field kQ[] = {
    {"shares", 11, 8, K::Integer}, {"stock", 19, 8, K::Alpha}, {"cross_price", 27, 4, K::Price4},
    {"match_number", 31, 8, K::Integer}, {"cross_type", 39, 1, K::Alpha}};
inline constexpr Field kB[] = {{"match_number", 11, 8, K::Integer}};
inline constexpr Field kI[] = {
    {"paired_shares", 11, 8, K::Integer}, {"imbalance_shares", 19, 8, K::Integer},
    {"imbalance_direction", 27, 1, K::Alpha}, {"stock", 28, 8, K::Alpha},
    {"far_price", 36, 4, K::Price4}, {"near_price", 40, 4, K::Price4},
    {"current_reference_price", 44, 4, K::Price4}, {"cross_type", 48, 1, K::Alpha},
    {"price_variation_indicator", 49, 1, K::Alpha}};
inline constexpr Field kN[] = {{"stock", 11, 8, K::Alpha}, {"interest_flag", 19, 1, K::Alpha}};
inline constexpr Field kO[] = {
    {"stock", 11, 8, K::Alpha}, {"open_eligibility_status", 19, 1, K::Alpha},
    {"minimum_allowable_price", 20, 4, K::Price4}, {"maximum_allowable_price", 24, 4, K::Price4},
    {"near_execution_price", 28, 4, K::Price4}, {"near_execution_time", 32, 8, K::Integer},
    {"lower_price_range_collar", 40, 4, K::Price4},
    {"upper_price_range_collar", 44, 4, K::Price4}};
// clang-format on
}  // namespace detail

inline constexpr std::array<MessageLayout, kMessageTypeCount> kLayouts = {{
    {'S', 12, "SystemEvent", detail::kS},
    {'R', 39, "StockDirectory", detail::kR},
    {'H', 25, "StockTradingAction", detail::kH},
    {'Y', 20, "RegShoRestriction", detail::kY},
    {'L', 26, "MarketParticipantPosition", detail::kL},
    {'V', 35, "MwcbDeclineLevel", detail::kV},
    {'W', 12, "MwcbStatus", detail::kW},
    {'K', 28, "IpoQuotingPeriodUpdate", detail::kK},
    {'J', 35, "LuldAuctionCollar", detail::kJ},
    {'h', 21, "OperationalHalt", detail::kh},
    {'A', 36, "AddOrder", detail::kA},
    {'F', 40, "AddOrderMpid", detail::kF},
    {'E', 31, "OrderExecuted", detail::kE},
    {'C', 36, "OrderExecutedWithPrice", detail::kC},
    {'X', 23, "OrderCancel", detail::kX},
    {'D', 19, "OrderDelete", detail::kD},
    {'U', 35, "OrderReplace", detail::kU},
    {'P', 44, "Trade", detail::kP},
    {'Q', 40, "CrossTrade", detail::kQ},
    {'B', 19, "BrokenTrade", detail::kB},
    {'I', 50, "NetOrderImbalance", detail::kI},
    {'N', 20, "RetailInterest", detail::kN},
    {'O', 48, "DirectListingPriceDiscovery", detail::kO},
}};

// The layout table and the view list must describe the same messages: fields
// contiguous from the header to exactly the wire length, names and lengths
// agreeing with FH_ITCH_MESSAGE_TYPES.
consteval bool layoutsAreConsistent() {
  for (const MessageLayout& m : kLayouts) {
    if (kLengthByType[static_cast<uint8_t>(m.type)] != m.length) return false;
    size_t end = kHeaderLength;
    for (const Field& f : m.fields) {
      if (f.offset != end || f.width == 0 || f.width > 8) return false;
      end += f.width;
    }
    if (end != m.length) return false;
  }
  size_t defined = 0;
  for (uint8_t length : kLengthByType) defined += length != 0;
  return defined == kLayouts.size();
}
static_assert(layoutsAreConsistent());

inline constexpr const MessageLayout* layoutOf(char type) noexcept {
  for (const MessageLayout& m : kLayouts)
    if (m.type == type) return &m;
  return nullptr;
}

}  // namespace fh::itch
