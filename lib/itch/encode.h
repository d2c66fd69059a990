// Writers of ITCH 5.0 messages: each fills a caller's buffer (at least the
// message's wire length) with one message, big-endian and space-padded as on
// the wire, and returns its length. For fhsim and tests, never the hot path.
// Pure functions; safe from any thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "itch/messages.h"
#include "util/bytes.h"

namespace fh::itch {

// Left-justified, space-padded Alpha field; a longer value is cut to the width.
inline void storeAlpha(uint8_t* p, size_t width, std::string_view value) noexcept {
  const size_t n = std::min(width, value.size());
  if (n > 0) std::memcpy(p, value.data(), n);  // an empty view's data() may be null
  std::memset(p + n, ' ', width - n);
}

inline void storeHeader(uint8_t* out, char type, uint16_t locate, uint16_t tracking, uint64_t timestamp) noexcept {
  out[0] = static_cast<uint8_t>(type);
  storeBe16(out + 1, locate);
  storeBe16(out + 3, tracking);
  storeBe48(out + 5, timestamp);
}

template <class View>
inline size_t startMessage(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp) noexcept {
  storeHeader(out, Traits<View>::kType, locate, tracking, timestamp);
  return Traits<View>::kLength;
}

inline size_t encodeSystemEvent(uint8_t* out, uint16_t tracking, uint64_t timestamp, char eventCode) noexcept {
  const size_t n = startMessage<SystemEvent>(out, 0, tracking, timestamp);
  out[11] = static_cast<uint8_t>(eventCode);
  return n;
}

// The R message's fields after the header; the defaults are those of a plain
// Nasdaq-listed common stock.
struct StockDirectoryFields {
  std::string_view stock;
  char marketCategory = 'Q';
  char financialStatus = 'N';
  uint32_t roundLotSize = 100;
  char roundLotsOnly = 'N';
  char issueClassification = 'C';
  std::string_view issueSubtype = "Z";
  char authenticity = 'P';
  char shortSaleThreshold = 'N';
  char ipoFlag = 'N';
  char luldReferencePriceTier = '2';
  char etpFlag = 'N';
  uint32_t etpLeverageFactor = 0;
  char inverseIndicator = 'N';
};

inline size_t encodeStockDirectory(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                   const StockDirectoryFields& f) noexcept {
  const size_t n = startMessage<StockDirectory>(out, locate, tracking, timestamp);
  storeAlpha(out + 11, 8, f.stock);
  out[19] = static_cast<uint8_t>(f.marketCategory);
  out[20] = static_cast<uint8_t>(f.financialStatus);
  storeBe32(out + 21, f.roundLotSize);
  out[25] = static_cast<uint8_t>(f.roundLotsOnly);
  out[26] = static_cast<uint8_t>(f.issueClassification);
  storeAlpha(out + 27, 2, f.issueSubtype);
  out[29] = static_cast<uint8_t>(f.authenticity);
  out[30] = static_cast<uint8_t>(f.shortSaleThreshold);
  out[31] = static_cast<uint8_t>(f.ipoFlag);
  out[32] = static_cast<uint8_t>(f.luldReferencePriceTier);
  out[33] = static_cast<uint8_t>(f.etpFlag);
  storeBe32(out + 34, f.etpLeverageFactor);
  out[38] = static_cast<uint8_t>(f.inverseIndicator);
  return n;
}

inline size_t encodeStockTradingAction(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                       std::string_view stock, char tradingState,
                                       std::string_view reason = {}) noexcept {
  const size_t n = startMessage<StockTradingAction>(out, locate, tracking, timestamp);
  storeAlpha(out + 11, 8, stock);
  out[19] = static_cast<uint8_t>(tradingState);
  out[20] = ' ';
  storeAlpha(out + 21, 4, reason);
  return n;
}

inline size_t encodeRegShoRestriction(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                      std::string_view stock, char action) noexcept {
  const size_t n = startMessage<RegShoRestriction>(out, locate, tracking, timestamp);
  storeAlpha(out + 11, 8, stock);
  out[19] = static_cast<uint8_t>(action);
  return n;
}

inline size_t encodeMarketParticipantPosition(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                              std::string_view mpid, std::string_view stock, char primaryMarketMaker,
                                              char marketMakerMode, char participantState) noexcept {
  const size_t n = startMessage<MarketParticipantPosition>(out, locate, tracking, timestamp);
  storeAlpha(out + 11, 4, mpid);
  storeAlpha(out + 15, 8, stock);
  out[23] = static_cast<uint8_t>(primaryMarketMaker);
  out[24] = static_cast<uint8_t>(marketMakerMode);
  out[25] = static_cast<uint8_t>(participantState);
  return n;
}

// Levels in Price(8).
inline size_t encodeMwcbDeclineLevel(uint8_t* out, uint16_t tracking, uint64_t timestamp, uint64_t level1,
                                     uint64_t level2, uint64_t level3) noexcept {
  const size_t n = startMessage<MwcbDeclineLevel>(out, 0, tracking, timestamp);
  storeBe64(out + 11, level1);
  storeBe64(out + 19, level2);
  storeBe64(out + 27, level3);
  return n;
}

inline size_t encodeMwcbStatus(uint8_t* out, uint16_t tracking, uint64_t timestamp, char breachedLevel) noexcept {
  const size_t n = startMessage<MwcbStatus>(out, 0, tracking, timestamp);
  out[11] = static_cast<uint8_t>(breachedLevel);
  return n;
}

inline size_t encodeIpoQuotingPeriodUpdate(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                           std::string_view stock, uint32_t releaseTime, char releaseQualifier,
                                           uint32_t ipoPrice) noexcept {
  const size_t n = startMessage<IpoQuotingPeriodUpdate>(out, locate, tracking, timestamp);
  storeAlpha(out + 11, 8, stock);
  storeBe32(out + 19, releaseTime);
  out[23] = static_cast<uint8_t>(releaseQualifier);
  storeBe32(out + 24, ipoPrice);
  return n;
}

inline size_t encodeLuldAuctionCollar(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                      std::string_view stock, uint32_t referencePrice, uint32_t upperPrice,
                                      uint32_t lowerPrice, uint32_t extension) noexcept {
  const size_t n = startMessage<LuldAuctionCollar>(out, locate, tracking, timestamp);
  storeAlpha(out + 11, 8, stock);
  storeBe32(out + 19, referencePrice);
  storeBe32(out + 23, upperPrice);
  storeBe32(out + 27, lowerPrice);
  storeBe32(out + 31, extension);
  return n;
}

inline size_t encodeOperationalHalt(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                    std::string_view stock, char marketCode, char haltAction) noexcept {
  const size_t n = startMessage<OperationalHalt>(out, locate, tracking, timestamp);
  storeAlpha(out + 11, 8, stock);
  out[19] = static_cast<uint8_t>(marketCode);
  out[20] = static_cast<uint8_t>(haltAction);
  return n;
}

inline size_t encodeAddOrder(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp, uint64_t ref,
                             char side, uint32_t shares, std::string_view stock, uint32_t price) noexcept {
  const size_t n = startMessage<AddOrder>(out, locate, tracking, timestamp);
  storeBe64(out + 11, ref);
  out[19] = static_cast<uint8_t>(side);
  storeBe32(out + 20, shares);
  storeAlpha(out + 24, 8, stock);
  storeBe32(out + 32, price);
  return n;
}

inline size_t encodeAddOrderMpid(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp, uint64_t ref,
                                 char side, uint32_t shares, std::string_view stock, uint32_t price,
                                 std::string_view attribution) noexcept {
  encodeAddOrder(out, locate, tracking, timestamp, ref, side, shares, stock, price);
  out[0] = static_cast<uint8_t>(Traits<AddOrderMpid>::kType);
  storeAlpha(out + 36, 4, attribution);
  return Traits<AddOrderMpid>::kLength;
}

inline size_t encodeOrderExecuted(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp, uint64_t ref,
                                  uint32_t executedShares, uint64_t matchNumber) noexcept {
  const size_t n = startMessage<OrderExecuted>(out, locate, tracking, timestamp);
  storeBe64(out + 11, ref);
  storeBe32(out + 19, executedShares);
  storeBe64(out + 23, matchNumber);
  return n;
}

inline size_t encodeOrderExecutedWithPrice(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                           uint64_t ref, uint32_t executedShares, uint64_t matchNumber, char printable,
                                           uint32_t executionPrice) noexcept {
  encodeOrderExecuted(out, locate, tracking, timestamp, ref, executedShares, matchNumber);
  out[0] = static_cast<uint8_t>(Traits<OrderExecutedWithPrice>::kType);
  out[31] = static_cast<uint8_t>(printable);
  storeBe32(out + 32, executionPrice);
  return Traits<OrderExecutedWithPrice>::kLength;
}

inline size_t encodeOrderCancel(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp, uint64_t ref,
                                uint32_t canceledShares) noexcept {
  const size_t n = startMessage<OrderCancel>(out, locate, tracking, timestamp);
  storeBe64(out + 11, ref);
  storeBe32(out + 19, canceledShares);
  return n;
}

inline size_t encodeOrderDelete(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                uint64_t ref) noexcept {
  const size_t n = startMessage<OrderDelete>(out, locate, tracking, timestamp);
  storeBe64(out + 11, ref);
  return n;
}

inline size_t encodeOrderReplace(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                 uint64_t originalRef, uint64_t newRef, uint32_t shares, uint32_t price) noexcept {
  const size_t n = startMessage<OrderReplace>(out, locate, tracking, timestamp);
  storeBe64(out + 11, originalRef);
  storeBe64(out + 19, newRef);
  storeBe32(out + 27, shares);
  storeBe32(out + 31, price);
  return n;
}

inline size_t encodeTrade(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp, uint64_t ref, char side,
                          uint32_t shares, std::string_view stock, uint32_t price, uint64_t matchNumber) noexcept {
  const size_t n = startMessage<Trade>(out, locate, tracking, timestamp);
  storeBe64(out + 11, ref);
  out[19] = static_cast<uint8_t>(side);
  storeBe32(out + 20, shares);
  storeAlpha(out + 24, 8, stock);
  storeBe32(out + 32, price);
  storeBe64(out + 36, matchNumber);
  return n;
}

inline size_t encodeCrossTrade(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp, uint64_t shares,
                               std::string_view stock, uint32_t crossPrice, uint64_t matchNumber,
                               char crossType) noexcept {
  const size_t n = startMessage<CrossTrade>(out, locate, tracking, timestamp);
  storeBe64(out + 11, shares);
  storeAlpha(out + 19, 8, stock);
  storeBe32(out + 27, crossPrice);
  storeBe64(out + 31, matchNumber);
  out[39] = static_cast<uint8_t>(crossType);
  return n;
}

inline size_t encodeBrokenTrade(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                uint64_t matchNumber) noexcept {
  const size_t n = startMessage<BrokenTrade>(out, locate, tracking, timestamp);
  storeBe64(out + 11, matchNumber);
  return n;
}

// The I message's fields after the header; prices in Price(4).
struct NetOrderImbalanceFields {
  uint64_t pairedShares = 0;
  uint64_t imbalanceShares = 0;
  char imbalanceDirection = 'N';
  std::string_view stock;
  uint32_t farPrice = 0;
  uint32_t nearPrice = 0;
  uint32_t currentReferencePrice = 0;
  char crossType = 'O';
  char priceVariationIndicator = ' ';
};

inline size_t encodeNetOrderImbalance(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                      const NetOrderImbalanceFields& f) noexcept {
  const size_t n = startMessage<NetOrderImbalance>(out, locate, tracking, timestamp);
  storeBe64(out + 11, f.pairedShares);
  storeBe64(out + 19, f.imbalanceShares);
  out[27] = static_cast<uint8_t>(f.imbalanceDirection);
  storeAlpha(out + 28, 8, f.stock);
  storeBe32(out + 36, f.farPrice);
  storeBe32(out + 40, f.nearPrice);
  storeBe32(out + 44, f.currentReferencePrice);
  out[48] = static_cast<uint8_t>(f.crossType);
  out[49] = static_cast<uint8_t>(f.priceVariationIndicator);
  return n;
}

inline size_t encodeRetailInterest(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                   std::string_view stock, char interestFlag) noexcept {
  const size_t n = startMessage<RetailInterest>(out, locate, tracking, timestamp);
  storeAlpha(out + 11, 8, stock);
  out[19] = static_cast<uint8_t>(interestFlag);
  return n;
}

// The O message's fields after the header; prices in Price(4).
struct DirectListingPriceDiscoveryFields {
  std::string_view stock;
  char openEligibilityStatus = 'N';
  uint32_t minimumAllowablePrice = 0;
  uint32_t maximumAllowablePrice = 0;
  uint32_t nearExecutionPrice = 0;
  uint64_t nearExecutionTime = 0;
  uint32_t lowerPriceRangeCollar = 0;
  uint32_t upperPriceRangeCollar = 0;
};

inline size_t encodeDirectListingPriceDiscovery(uint8_t* out, uint16_t locate, uint16_t tracking, uint64_t timestamp,
                                                const DirectListingPriceDiscoveryFields& f) noexcept {
  const size_t n = startMessage<DirectListingPriceDiscovery>(out, locate, tracking, timestamp);
  storeAlpha(out + 11, 8, f.stock);
  out[19] = static_cast<uint8_t>(f.openEligibilityStatus);
  storeBe32(out + 20, f.minimumAllowablePrice);
  storeBe32(out + 24, f.maximumAllowablePrice);
  storeBe32(out + 28, f.nearExecutionPrice);
  storeBe64(out + 32, f.nearExecutionTime);
  storeBe32(out + 40, f.lowerPriceRangeCollar);
  storeBe32(out + 44, f.upperPriceRangeCollar);
  return n;
}

}  // namespace fh::itch
