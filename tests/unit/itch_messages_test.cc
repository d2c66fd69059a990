// Every ITCH 5.0 message type decoded from bytes written out by hand from the
// Nasdaq TotalView-ITCH 5.0 specification (section 1: one struct per message,
// big-endian integers, space-padded Alpha, 6-byte timestamps): each typed
// accessor, the exact length check on both sides, the generic field table,
// unknown types, empty blocks, the counters, and F reaching an A handler.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "itch/decoder.h"
#include "itch/fields.h"
#include "itch/messages.h"

using namespace fh::itch;

namespace {

// Remembers the last view of one type it was handed.
template <class View>
struct Capture {
  std::optional<View> view;
  int calls = 0;
  void on(const View& v) {
    view = v;
    ++calls;
  }
};

// Has an overload for every view, so overload resolution picks the exact
// type; records the type of each view it receives.
struct EveryView {
  std::string seen;
#define FH_TEST_ON(viewName, typeChar, length) \
  void on(const viewName&) { seen += (typeChar); }
  FH_ITCH_MESSAGE_TYPES(FH_TEST_ON)
#undef FH_TEST_ON
};

struct NoHandler {};

// Decodes `bytes` as one message that must be a View; checks that exactly
// that view is dispatched, once, over the caller's bytes, and that one byte
// less or one byte more is refused as BadLength without a callback.
template <class View, size_t N>
View decodeOne(const uint8_t (&bytes)[N]) {
  REQUIRE(N == Traits<View>::kLength);
  REQUIRE(static_cast<char>(bytes[0]) == Traits<View>::kType);

  Capture<View> capture;
  REQUIRE(decode(bytes, N, capture) == DecodeStatus::Ok);
  REQUIRE(capture.calls == 1);
  REQUIRE(capture.view->p == bytes);

  EveryView every;
  REQUIRE(decode(bytes, N, every) == DecodeStatus::Ok);
  REQUIRE(every.seen == std::string(1, Traits<View>::kType));

  std::vector<uint8_t> longer(bytes, bytes + N);
  longer.push_back(' ');
  Capture<View> refused;
  EveryView refusedEvery;
  CHECK(decode(longer.data(), N - 1, refused) == DecodeStatus::BadLength);
  CHECK(decode(longer.data(), N + 1, refused) == DecodeStatus::BadLength);
  CHECK(decode(longer.data(), N - 1, refusedEvery) == DecodeStatus::BadLength);
  CHECK(decode(longer.data(), N + 1, refusedEvery) == DecodeStatus::BadLength);
  CHECK(refused.calls == 0);
  CHECK(refusedEvery.seen.empty());
  return *capture.view;
}

// An expected field value: a number, or the text of an Alpha field (trailing
// spaces removed when it is wider than one byte).
struct Value {
  bool alpha;
  uint64_t number = 0;
  std::string_view text;
  Value(uint64_t n) : alpha(false), number(n) {}  // NOLINT: implicit by design
  template <size_t M>
  Value(const char (&s)[M]) : alpha(true), text(s, M - 1) {}  // NOLINT
};

constexpr FieldKind kAlpha = FieldKind::Alpha;
constexpr FieldKind kInt = FieldKind::Integer;
constexpr FieldKind kP4 = FieldKind::Price4;
constexpr FieldKind kP8 = FieldKind::Price8;

struct ExpectedField {
  std::string_view name;
  FieldKind kind;
  Value value;
};

// The generic table must name the fields of the spec (spec/decode-jsonl.md)
// in order, with the spec's kinds, and read the same values as the views.
template <size_t N>
void checkTable(const uint8_t (&bytes)[N], std::initializer_list<ExpectedField> expected) {
  const MessageLayout* layout = layoutOf(static_cast<char>(bytes[0]));
  REQUIRE(layout != nullptr);
  CHECK(layout->type == static_cast<char>(bytes[0]));
  CHECK(layout->length == N);
  CHECK(kLengthByType[bytes[0]] == N);
  REQUIRE(layout->fields.size() == expected.size());
  size_t i = 0;
  for (const ExpectedField& e : expected) {
    const Field& f = layout->fields[i++];
    INFO("field " << e.name);
    CHECK(f.name == e.name);
    CHECK(f.kind == e.kind);
    REQUIRE(size_t{f.offset} + f.width <= N);
    if (e.value.alpha) {
      REQUIRE(f.kind == FieldKind::Alpha);
      const std::string_view read = f.width == 1 ? std::string_view(reinterpret_cast<const char*>(bytes + f.offset), 1)
                                                 : fh::alphaTrimmed(bytes + f.offset, f.width);
      CHECK(read == e.value.text);
    } else {
      REQUIRE(f.kind != FieldKind::Alpha);
      CHECK(fh::loadBeN(bytes + f.offset, f.width) == e.value.number);
    }
  }
}

}  // namespace

TEST_CASE("itch: S system event", "[itch]") {
  const uint8_t bytes[] = {
      'S',                                 // 0  message type
      0x00, 0x00,                          // 1  stock locate 0
      0x00, 0x02,                          // 3  tracking number 2
      0x09, 0xD2, 0x92, 0x29, 0xE0, 0x00,  // 5  timestamp 10,800,000,000,000 ns (03:00:00)
      'O',                                 // 11 event code: start of messages
  };
  const SystemEvent m = decodeOne<SystemEvent>(bytes);
  CHECK(m.type() == 'S');
  CHECK(m.locate() == 0);
  CHECK(m.tracking() == 2);
  CHECK(m.timestamp() == 10'800'000'000'000ull);
  CHECK(m.eventCode() == 'O');
  checkTable(bytes, {{"event_code", kAlpha, "O"}});
}

TEST_CASE("itch: R stock directory", "[itch]") {
  const uint8_t bytes[] = {
      'R',                                           // 0  message type
      0x1F, 0x40,                                    // 1  stock locate 8000
      0x00, 0x07,                                    // 3  tracking number 7
      0x0A, 0x66, 0xA2, 0x94, 0x36, 0x14,            // 5  timestamp 11,435,930,564,116 ns
      'B',  'R',  'K',  ' ',  'A',  ' ',  ' ', ' ',  // 11 stock "BRK A" (inner space kept)
      'N',                                           // 19 market category: Nasdaq Global Select
      'D',                                           // 20 financial status: deficient
      0x00, 0x00, 0x00, 0x0A,                        // 21 round lot size 10
      'Y',                                           // 25 round lots only
      'C',                                           // 26 issue classification: common stock
      'C',  'S',                                     // 27 issue sub-type "CS"
      'P',                                           // 29 authenticity: production
      'Y',                                           // 30 short sale threshold indicator
      ' ',                                           // 31 IPO flag: not available (a space)
      '1',                                           // 32 LULD reference price tier 1
      'Y',                                           // 33 ETP flag
      0x00, 0x00, 0x00, 0x03,                        // 34 ETP leverage factor 3
      'Y',                                           // 38 inverse indicator
  };
  const StockDirectory m = decodeOne<StockDirectory>(bytes);
  CHECK(m.type() == 'R');
  CHECK(m.locate() == 8000);
  CHECK(m.tracking() == 7);
  CHECK(m.timestamp() == 11'435'930'564'116ull);
  CHECK(m.stock() == "BRK A");
  CHECK(m.marketCategory() == 'N');
  CHECK(m.financialStatus() == 'D');
  CHECK(m.roundLotSize() == 10);
  CHECK(m.roundLotsOnly() == 'Y');
  CHECK(m.issueClassification() == 'C');
  CHECK(m.issueSubtype() == "CS");
  CHECK(m.authenticity() == 'P');
  CHECK(m.shortSaleThreshold() == 'Y');
  CHECK(m.ipoFlag() == ' ');
  CHECK(m.luldReferencePriceTier() == '1');
  CHECK(m.etpFlag() == 'Y');
  CHECK(m.etpLeverageFactor() == 3);
  CHECK(m.inverseIndicator() == 'Y');
  checkTable(bytes, {{"stock", kAlpha, "BRK A"},
                     {"market_category", kAlpha, "N"},
                     {"financial_status", kAlpha, "D"},
                     {"round_lot_size", kInt, 10},
                     {"round_lots_only", kAlpha, "Y"},
                     {"issue_classification", kAlpha, "C"},
                     {"issue_subtype", kAlpha, "CS"},
                     {"authenticity", kAlpha, "P"},
                     {"short_sale_threshold", kAlpha, "Y"},
                     {"ipo_flag", kAlpha, " "},
                     {"luld_reference_price_tier", kAlpha, "1"},
                     {"etp_flag", kAlpha, "Y"},
                     {"etp_leverage_factor", kInt, 3},
                     {"inverse_indicator", kAlpha, "Y"}});
}

TEST_CASE("itch: H stock trading action", "[itch]") {
  const uint8_t bytes[] = {
      'H',                                           // 0  message type
      0x0B, 0xE1,                                    // 1  stock locate 3041
      0x00, 0x01,                                    // 3  tracking number 1
      0x1F, 0x1A, 0xCE, 0xD9, 0xF0, 0xE6,            // 5  timestamp 34,200,000,000,230 ns
      'Z',  'V',  'Z',  'Z',  'T',  ' ',  ' ', ' ',  // 11 stock "ZVZZT"
      'T',                                           // 19 trading state: trading
      ' ',                                           // 20 reserved
      'T',  '1',  ' ',  ' ',                         // 21 reason "T1"
  };
  const StockTradingAction m = decodeOne<StockTradingAction>(bytes);
  CHECK(m.type() == 'H');
  CHECK(m.locate() == 3041);
  CHECK(m.tracking() == 1);
  CHECK(m.timestamp() == 34'200'000'000'230ull);
  CHECK(m.stock() == "ZVZZT");
  CHECK(m.tradingState() == 'T');
  CHECK(m.reserved() == ' ');
  CHECK(m.reason() == "T1");
  checkTable(bytes, {{"stock", kAlpha, "ZVZZT"},
                     {"trading_state", kAlpha, "T"},
                     {"reserved", kAlpha, " "},
                     {"reason", kAlpha, "T1"}});
}

TEST_CASE("itch: Y Reg SHO restriction", "[itch]") {
  const uint8_t bytes[] = {
      'Y',                                           // 0  message type
      0x00, 0x2A,                                    // 1  stock locate 42
      0x00, 0x03,                                    // 3  tracking number 3
      0x1F, 0x1A, 0xCE, 0xDB, 0x55, 0x54,            // 5  timestamp 34,200,000,091,476 ns
      'A',  'B',  'C',  'D',  'E',  'F',  'G', 'H',  // 11 stock "ABCDEFGH" (all 8 bytes used)
      '1',                                           // 19 Reg SHO action: restriction in effect
  };
  const RegShoRestriction m = decodeOne<RegShoRestriction>(bytes);
  CHECK(m.type() == 'Y');
  CHECK(m.locate() == 42);
  CHECK(m.tracking() == 3);
  CHECK(m.timestamp() == 34'200'000'091'476ull);
  CHECK(m.stock() == "ABCDEFGH");
  CHECK(m.regShoAction() == '1');
  checkTable(bytes, {{"stock", kAlpha, "ABCDEFGH"}, {"reg_sho_action", kAlpha, "1"}});
}

TEST_CASE("itch: L market participant position", "[itch]") {
  const uint8_t bytes[] = {
      'L',                                           // 0  message type
      0x01, 0x00,                                    // 1  stock locate 256
      0x00, 0x04,                                    // 3  tracking number 4
      0x09, 0xD2, 0x92, 0x29, 0xE0, 0x00,            // 5  timestamp 10,800,000,000,000 ns
      'G',  'S',  'C',  'O',                         // 11 MPID "GSCO"
      'M',  'S',  'F',  'T',  ' ',  ' ',  ' ', ' ',  // 15 stock "MSFT"
      'Y',                                           // 23 primary market maker
      'N',                                           // 24 market maker mode: normal
      'A',                                           // 25 market participant state: active
  };
  const MarketParticipantPosition m = decodeOne<MarketParticipantPosition>(bytes);
  CHECK(m.type() == 'L');
  CHECK(m.locate() == 256);
  CHECK(m.tracking() == 4);
  CHECK(m.timestamp() == 10'800'000'000'000ull);
  CHECK(m.mpid() == "GSCO");
  CHECK(m.stock() == "MSFT");
  CHECK(m.primaryMarketMaker() == 'Y');
  CHECK(m.marketMakerMode() == 'N');
  CHECK(m.marketParticipantState() == 'A');
  checkTable(bytes, {{"mpid", kAlpha, "GSCO"},
                     {"stock", kAlpha, "MSFT"},
                     {"primary_market_maker", kAlpha, "Y"},
                     {"market_maker_mode", kAlpha, "N"},
                     {"market_participant_state", kAlpha, "A"}});
}

TEST_CASE("itch: V MWCB decline level", "[itch]") {
  const uint8_t bytes[] = {
      'V',                                             // 0  message type
      0x00, 0x00,                                      // 1  stock locate 0
      0x00, 0x05,                                      // 3  tracking number 5
      0x0A, 0x66, 0xA2, 0x94, 0x36, 0x14,              // 5  timestamp 11,435,930,564,116 ns
      0x00, 0x00, 0x00, 0x48, 0x45, 0xA3, 0xAD, 0x80,  // 11 level 1: 3104.06 as Price(8) 310,406,000,000
      0x00, 0x00, 0x00, 0x43, 0x31, 0x5D, 0x31, 0xC0,  // 19 level 2: 2885.91 -> 288,591,000,000
      0x00, 0x00, 0x00, 0x3E, 0x03, 0xFE, 0xC2, 0xC0,  // 27 level 3: 2663.55 -> 266,355,000,000
  };
  const MwcbDeclineLevel m = decodeOne<MwcbDeclineLevel>(bytes);
  CHECK(m.type() == 'V');
  CHECK(m.locate() == 0);
  CHECK(m.tracking() == 5);
  CHECK(m.timestamp() == 11'435'930'564'116ull);
  CHECK(m.level1() == 310'406'000'000ull);
  CHECK(m.level2() == 288'591'000'000ull);
  CHECK(m.level3() == 266'355'000'000ull);
  checkTable(
      bytes,
      {{"level1", kP8, 310'406'000'000ull}, {"level2", kP8, 288'591'000'000ull}, {"level3", kP8, 266'355'000'000ull}});
}

TEST_CASE("itch: W MWCB status", "[itch]") {
  const uint8_t bytes[] = {
      'W',                                 // 0  message type
      0x00, 0x00,                          // 1  stock locate 0
      0x00, 0x06,                          // 3  tracking number 6
      0x37, 0x24, 0xE0, 0x5A, 0x40, 0xA1,  // 5  timestamp 60,631,522,361,505 ns
      '2',                                 // 11 breached level 2
  };
  const MwcbStatus m = decodeOne<MwcbStatus>(bytes);
  CHECK(m.type() == 'W');
  CHECK(m.locate() == 0);
  CHECK(m.tracking() == 6);
  CHECK(m.timestamp() == 60'631'522'361'505ull);
  CHECK(m.breachedLevel() == '2');
  checkTable(bytes, {{"breached_level", kAlpha, "2"}});
}

TEST_CASE("itch: K IPO quoting period update", "[itch]") {
  const uint8_t bytes[] = {
      'K',                                           // 0  message type
      0x12, 0x34,                                    // 1  stock locate 4660
      0x00, 0x08,                                    // 3  tracking number 8
      0x1F, 0x1A, 0xCE, 0xDB, 0x55, 0x54,            // 5  timestamp 34,200,000,091,476 ns
      'A',  'R',  'M',  ' ',  ' ',  ' ',  ' ', ' ',  // 11 stock "ARM"
      0x00, 0x00, 0x8C, 0xA0,                        // 19 release time 36,000 s after midnight (10:00)
      'A',                                           // 23 release qualifier: anticipated
      0x00, 0x07, 0xC8, 0x30,                        // 24 IPO price 51.0000 -> Price(4) 510,000
  };
  const IpoQuotingPeriodUpdate m = decodeOne<IpoQuotingPeriodUpdate>(bytes);
  CHECK(m.type() == 'K');
  CHECK(m.locate() == 4660);
  CHECK(m.tracking() == 8);
  CHECK(m.timestamp() == 34'200'000'091'476ull);
  CHECK(m.stock() == "ARM");
  CHECK(m.ipoQuotationReleaseTime() == 36'000);
  CHECK(m.ipoQuotationReleaseQualifier() == 'A');
  CHECK(m.ipoPrice() == 510'000);
  checkTable(bytes, {{"stock", kAlpha, "ARM"},
                     {"ipo_quotation_release_time", kInt, 36'000},
                     {"ipo_quotation_release_qualifier", kAlpha, "A"},
                     {"ipo_price", kP4, 510'000}});
}

TEST_CASE("itch: J LULD auction collar", "[itch]") {
  const uint8_t bytes[] = {
      'J',                                           // 0  message type
      0x1D, 0xB3,                                    // 1  stock locate 7603
      0x00, 0x09,                                    // 3  tracking number 9
      0x37, 0x24, 0xE0, 0x5A, 0x40, 0xA1,            // 5  timestamp 60,631,522,361,505 ns
      'T',  'S',  'L',  'A',  ' ',  ' ',  ' ', ' ',  // 11 stock "TSLA"
      0x00, 0x26, 0x25, 0xA0,                        // 19 reference price 250.0000 -> 2,500,000
      0x00, 0x28, 0x0D, 0xE8,                        // 23 upper collar 262.5000 -> 2,625,000
      0x00, 0x24, 0x3D, 0x58,                        // 27 lower collar 237.5000 -> 2,375,000
      0x00, 0x00, 0x00, 0x01,                        // 31 extension 1
  };
  const LuldAuctionCollar m = decodeOne<LuldAuctionCollar>(bytes);
  CHECK(m.type() == 'J');
  CHECK(m.locate() == 7603);
  CHECK(m.tracking() == 9);
  CHECK(m.timestamp() == 60'631'522'361'505ull);
  CHECK(m.stock() == "TSLA");
  CHECK(m.referencePrice() == 2'500'000);
  CHECK(m.upperPrice() == 2'625'000);
  CHECK(m.lowerPrice() == 2'375'000);
  CHECK(m.extension() == 1);
  checkTable(bytes, {{"stock", kAlpha, "TSLA"},
                     {"auction_collar_reference_price", kP4, 2'500'000},
                     {"upper_auction_collar_price", kP4, 2'625'000},
                     {"lower_auction_collar_price", kP4, 2'375'000},
                     {"auction_collar_extension", kInt, 1}});
}

TEST_CASE("itch: h operational halt", "[itch]") {
  const uint8_t bytes[] = {
      'h',                                           // 0  message type
      0x0B, 0xE1,                                    // 1  stock locate 3041
      0x00, 0x0A,                                    // 3  tracking number 10
      0x0A, 0x66, 0xA2, 0x94, 0x36, 0x14,            // 5  timestamp 11,435,930,564,116 ns
      'A',  'M',  'Z',  'N',  ' ',  ' ',  ' ', ' ',  // 11 stock "AMZN"
      'Q',                                           // 19 market code: Nasdaq
      'H',                                           // 20 operational halt action: halted
  };
  const OperationalHalt m = decodeOne<OperationalHalt>(bytes);
  CHECK(m.type() == 'h');
  CHECK(m.locate() == 3041);
  CHECK(m.tracking() == 10);
  CHECK(m.timestamp() == 11'435'930'564'116ull);
  CHECK(m.stock() == "AMZN");
  CHECK(m.marketCode() == 'Q');
  CHECK(m.haltAction() == 'H');
  checkTable(bytes,
             {{"stock", kAlpha, "AMZN"}, {"market_code", kAlpha, "Q"}, {"operational_halt_action", kAlpha, "H"}});
}

// The spec's own example line (spec/decode-jsonl.md) describes this message.
TEST_CASE("itch: A add order", "[itch]") {
  const uint8_t bytes[] = {
      'A',                                             // 0  message type
      0x1D, 0x52,                                      // 1  stock locate 7506
      0x00, 0x00,                                      // 3  tracking number 0
      0x37, 0x24, 0xE0, 0x5A, 0x40, 0xA1,              // 5  timestamp 60,631,522,361,505 ns
      0x00, 0x00, 0x00, 0x00, 0x1A, 0x0A, 0xF5, 0xBC,  // 11 order reference 436,925,884
      'S',                                             // 19 side: sell
      0x00, 0x00, 0x01, 0x90,                          // 20 shares 400
      'T',  'V',  'I',  'X',  ' ',  ' ',  ' ',  ' ',   // 24 stock "TVIX"
      0x00, 0x03, 0xEE, 0x40,                          // 32 price 25.7600 -> 257,600
  };
  const AddOrder m = decodeOne<AddOrder>(bytes);
  CHECK(m.type() == 'A');
  CHECK(m.locate() == 7506);
  CHECK(m.tracking() == 0);
  CHECK(m.timestamp() == 60'631'522'361'505ull);
  CHECK(m.orderRef() == 436'925'884ull);
  CHECK(m.side() == 'S');
  CHECK(m.shares() == 400);
  CHECK(m.stock() == "TVIX");
  CHECK(std::memcmp(m.stockRaw(), "TVIX    ", 8) == 0);
  CHECK(m.price() == 257'600);
  checkTable(bytes, {{"order_ref", kInt, 436'925'884},
                     {"side", kAlpha, "S"},
                     {"shares", kInt, 400},
                     {"stock", kAlpha, "TVIX"},
                     {"price", kP4, 257'600}});
}

TEST_CASE("itch: F add order with MPID attribution", "[itch]") {
  const uint8_t bytes[] = {
      'F',                                             // 0  message type
      0x18, 0x04,                                      // 1  stock locate 6148
      0x00, 0x00,                                      // 3  tracking number 0
      0x1F, 0x1A, 0xCE, 0xDB, 0x69, 0x63,              // 5  timestamp 34,200,000,096,611 ns
      0x00, 0x00, 0x00, 0x00, 0x00, 0x72, 0x90, 0x47,  // 11 order reference 7,508,039
      'B',                                             // 19 side: buy
      0x00, 0x00, 0x00, 0x64,                          // 20 shares 100
      'P',  'G',  'F',  ' ',  ' ',  ' ',  ' ',  ' ',   // 24 stock "PGF"
      0x00, 0x02, 0xCA, 0xD8,                          // 32 price 18.3000 -> 183,000
      'F',  'L',  'T',  'G',                           // 36 attribution "FLTG"
  };
  const AddOrderMpid m = decodeOne<AddOrderMpid>(bytes);
  CHECK(m.type() == 'F');
  CHECK(m.locate() == 6148);
  CHECK(m.tracking() == 0);
  CHECK(m.timestamp() == 34'200'000'096'611ull);
  CHECK(m.orderRef() == 7'508'039ull);
  CHECK(m.side() == 'B');
  CHECK(m.shares() == 100);
  CHECK(m.stock() == "PGF");
  CHECK(m.price() == 183'000);
  CHECK(m.attribution() == "FLTG");
  checkTable(bytes, {{"order_ref", kInt, 7'508'039},
                     {"side", kAlpha, "B"},
                     {"shares", kInt, 100},
                     {"stock", kAlpha, "PGF"},
                     {"price", kP4, 183'000},
                     {"attribution", kAlpha, "FLTG"}});
}

TEST_CASE("itch: E order executed", "[itch]") {
  const uint8_t bytes[] = {
      'E',                                             // 0  message type
      0x0E, 0x58,                                      // 1  stock locate 3672
      0x00, 0x0B,                                      // 3  tracking number 11
      0x1F, 0x1A, 0xCE, 0xDB, 0x55, 0x54,              // 5  timestamp 34,200,000,091,476 ns
      0x00, 0x00, 0x00, 0x00, 0x00, 0x56, 0x96, 0x1A,  // 11 order reference 5,674,522
      0x00, 0x00, 0x00, 0x36,                          // 19 executed shares 54
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xD0, 0xF7,  // 23 match number 53,495
  };
  const OrderExecuted m = decodeOne<OrderExecuted>(bytes);
  CHECK(m.type() == 'E');
  CHECK(m.locate() == 3672);
  CHECK(m.tracking() == 11);
  CHECK(m.timestamp() == 34'200'000'091'476ull);
  CHECK(m.orderRef() == 5'674'522ull);
  CHECK(m.executedShares() == 54);
  CHECK(m.matchNumber() == 53'495ull);
  checkTable(bytes, {{"order_ref", kInt, 5'674'522}, {"executed_shares", kInt, 54}, {"match_number", kInt, 53'495}});
}

TEST_CASE("itch: C order executed with price", "[itch]") {
  const uint8_t bytes[] = {
      'C',                                             // 0  message type
      0x0E, 0x58,                                      // 1  stock locate 3672
      0x00, 0x01,                                      // 3  tracking number 1
      0x1F, 0x1A, 0xCE, 0xE9, 0x1E, 0xFC,              // 5  timestamp 34,200,000,995,068 ns
      0x00, 0x00, 0x00, 0x00, 0x00, 0x56, 0x96, 0x1A,  // 11 order reference 5,674,522
      0x00, 0x00, 0x00, 0x36,                          // 19 executed shares 54
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xD0, 0xF8,  // 23 match number 53,496
      'Y',                                             // 31 printable
      0x00, 0x06, 0x2B, 0x4C,                          // 32 execution price 40.4300 -> 404,300
  };
  const OrderExecutedWithPrice m = decodeOne<OrderExecutedWithPrice>(bytes);
  CHECK(m.type() == 'C');
  CHECK(m.locate() == 3672);
  CHECK(m.tracking() == 1);
  CHECK(m.timestamp() == 34'200'000'995'068ull);
  CHECK(m.orderRef() == 5'674'522ull);
  CHECK(m.executedShares() == 54);
  CHECK(m.matchNumber() == 53'496ull);
  CHECK(m.printable() == 'Y');
  CHECK(m.executionPrice() == 404'300);
  checkTable(bytes, {{"order_ref", kInt, 5'674'522},
                     {"executed_shares", kInt, 54},
                     {"match_number", kInt, 53'496},
                     {"printable", kAlpha, "Y"},
                     {"execution_price", kP4, 404'300}});
}

TEST_CASE("itch: X order cancel", "[itch]") {
  const uint8_t bytes[] = {
      'X',                                             // 0  message type
      0x1D, 0x52,                                      // 1  stock locate 7506
      0x00, 0x0C,                                      // 3  tracking number 12
      0x37, 0x24, 0xE0, 0x5A, 0x40, 0xA1,              // 5  timestamp 60,631,522,361,505 ns
      0x00, 0x00, 0x00, 0x00, 0x1A, 0x0A, 0xF5, 0xBC,  // 11 order reference 436,925,884
      0x00, 0x00, 0x01, 0x2C,                          // 19 canceled shares 300
  };
  const OrderCancel m = decodeOne<OrderCancel>(bytes);
  CHECK(m.type() == 'X');
  CHECK(m.locate() == 7506);
  CHECK(m.tracking() == 12);
  CHECK(m.timestamp() == 60'631'522'361'505ull);
  CHECK(m.orderRef() == 436'925'884ull);
  CHECK(m.canceledShares() == 300);
  checkTable(bytes, {{"order_ref", kInt, 436'925'884}, {"canceled_shares", kInt, 300}});
}

// The spec's second example line (the snippet's first record) is this message.
TEST_CASE("itch: D order delete", "[itch]") {
  const uint8_t bytes[] = {
      'D',                                             // 0  message type
      0x0B, 0xE1,                                      // 1  stock locate 3041
      0x00, 0x00,                                      // 3  tracking number 0
      0x1F, 0x1A, 0xCE, 0xD9, 0xF0, 0xE6,              // 5  timestamp 34,200,000,000,230 ns
      0x00, 0x00, 0x00, 0x00, 0x00, 0x4A, 0x07, 0xEE,  // 11 order reference 4,851,694
  };
  const OrderDelete m = decodeOne<OrderDelete>(bytes);
  CHECK(m.type() == 'D');
  CHECK(m.locate() == 3041);
  CHECK(m.tracking() == 0);
  CHECK(m.timestamp() == 34'200'000'000'230ull);
  CHECK(m.orderRef() == 4'851'694ull);
  checkTable(bytes, {{"order_ref", kInt, 4'851'694}});
}

TEST_CASE("itch: U order replace", "[itch]") {
  const uint8_t bytes[] = {
      'U',                                             // 0  message type
      0x11, 0x54,                                      // 1  stock locate 4436
      0x00, 0x0D,                                      // 3  tracking number 13
      0x1F, 0x1A, 0xCE, 0xDB, 0x55, 0x54,              // 5  timestamp 34,200,000,091,476 ns
      0x00, 0x00, 0x00, 0x00, 0x00, 0x55, 0x46, 0x72,  // 11 original order reference 5,588,594
      0x00, 0x00, 0x00, 0x00, 0x00, 0x56, 0x9E, 0x5A,  // 19 new order reference 5,676,634
      0x00, 0x00, 0x03, 0xE8,                          // 27 shares 1,000
      0x00, 0x1C, 0x75, 0x8C,                          // 31 price 186.5100 -> 1,865,100
  };
  const OrderReplace m = decodeOne<OrderReplace>(bytes);
  CHECK(m.type() == 'U');
  CHECK(m.locate() == 4436);
  CHECK(m.tracking() == 13);
  CHECK(m.timestamp() == 34'200'000'091'476ull);
  CHECK(m.originalOrderRef() == 5'588'594ull);
  CHECK(m.newOrderRef() == 5'676'634ull);
  CHECK(m.shares() == 1'000);
  CHECK(m.price() == 1'865'100);
  checkTable(bytes, {{"original_order_ref", kInt, 5'588'594},
                     {"new_order_ref", kInt, 5'676'634},
                     {"shares", kInt, 1'000},
                     {"price", kP4, 1'865'100}});
}

TEST_CASE("itch: P trade (non-cross)", "[itch]") {
  const uint8_t bytes[] = {
      'P',                                             // 0  message type
      0x00, 0x2A,                                      // 1  stock locate 42
      0x00, 0x0E,                                      // 3  tracking number 14
      0x37, 0x24, 0xE0, 0x5A, 0x40, 0xA1,              // 5  timestamp 60,631,522,361,505 ns
      0x00, 0x00, 0x00, 0x00, 0x00, 0xAB, 0xCD, 0xEF,  // 11 order reference 11,259,375
      'B',                                             // 19 side: buy
      0x00, 0x00, 0x01, 0xF4,                          // 20 shares 500
      'S',  'P',  'Y',  ' ',  ' ',  ' ',  ' ',  ' ',   // 24 stock "SPY"
      0x00, 0x44, 0xAA, 0x20,                          // 32 price 450.0000 -> 4,500,000
      0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56,  // 36 match number 1,193,046
  };
  const Trade m = decodeOne<Trade>(bytes);
  CHECK(m.type() == 'P');
  CHECK(m.locate() == 42);
  CHECK(m.tracking() == 14);
  CHECK(m.timestamp() == 60'631'522'361'505ull);
  CHECK(m.orderRef() == 11'259'375ull);
  CHECK(m.side() == 'B');
  CHECK(m.shares() == 500);
  CHECK(m.stock() == "SPY");
  CHECK(m.price() == 4'500'000);
  CHECK(m.matchNumber() == 1'193'046ull);
  checkTable(bytes, {{"order_ref", kInt, 11'259'375},
                     {"side", kAlpha, "B"},
                     {"shares", kInt, 500},
                     {"stock", kAlpha, "SPY"},
                     {"price", kP4, 4'500'000},
                     {"match_number", kInt, 1'193'046}});
}

TEST_CASE("itch: Q cross trade", "[itch]") {
  const uint8_t bytes[] = {
      'Q',                                             // 0  message type
      0x0E, 0x58,                                      // 1  stock locate 3672
      0x00, 0x02,                                      // 3  tracking number 2
      0x1F, 0x1A, 0xCE, 0xE9, 0x1E, 0xFC,              // 5  timestamp 34,200,000,995,068 ns
      0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0xAB, 0xCD,  // 11 shares 4,295,011,277 (needs all 8 bytes)
      'H',  'D',  'S',  ' ',  ' ',  ' ',  ' ',  ' ',   // 19 stock "HDS"
      0x00, 0x06, 0x2B, 0x4C,                          // 27 cross price 40.4300 -> 404,300
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xD0, 0xF9,  // 31 match number 53,497
      'O',                                             // 39 cross type: opening cross
  };
  const CrossTrade m = decodeOne<CrossTrade>(bytes);
  CHECK(m.type() == 'Q');
  CHECK(m.locate() == 3672);
  CHECK(m.tracking() == 2);
  CHECK(m.timestamp() == 34'200'000'995'068ull);
  CHECK(m.shares() == 4'295'011'277ull);
  CHECK(m.stock() == "HDS");
  CHECK(m.crossPrice() == 404'300);
  CHECK(m.matchNumber() == 53'497ull);
  CHECK(m.crossType() == 'O');
  checkTable(bytes, {{"shares", kInt, 4'295'011'277ull},
                     {"stock", kAlpha, "HDS"},
                     {"cross_price", kP4, 404'300},
                     {"match_number", kInt, 53'497},
                     {"cross_type", kAlpha, "O"}});
}

TEST_CASE("itch: B broken trade", "[itch]") {
  const uint8_t bytes[] = {
      'B',                                             // 0  message type
      0x00, 0x2A,                                      // 1  stock locate 42
      0x00, 0x0F,                                      // 3  tracking number 15
      0x0A, 0x66, 0xA2, 0x94, 0x36, 0x14,              // 5  timestamp 11,435,930,564,116 ns
      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // 11 match number 0x0102030405060708
  };
  const BrokenTrade m = decodeOne<BrokenTrade>(bytes);
  CHECK(m.type() == 'B');
  CHECK(m.locate() == 42);
  CHECK(m.tracking() == 15);
  CHECK(m.timestamp() == 11'435'930'564'116ull);
  CHECK(m.matchNumber() == 0x0102030405060708ull);
  checkTable(bytes, {{"match_number", kInt, 72'623'859'790'382'856ull}});
}

TEST_CASE("itch: I net order imbalance indicator", "[itch]") {
  const uint8_t bytes[] = {
      'I',                                             // 0  message type
      0x02, 0xCC,                                      // 1  stock locate 716
      0x00, 0x10,                                      // 3  tracking number 16
      0x1F, 0x1A, 0xCE, 0xDB, 0x55, 0x54,              // 5  timestamp 34,200,000,091,476 ns
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0F, 0x00,  // 11 paired shares 3,840
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xF4,  // 19 imbalance shares 500
      'B',                                             // 27 imbalance direction: buy
      'A',  'A',  'P',  'L',  ' ',  ' ',  ' ',  ' ',   // 28 stock "AAPL"
      0x00, 0x04, 0x85, 0x6C,                          // 36 far price 29.6300 -> 296,300
      0x00, 0x04, 0x85, 0x70,                          // 40 near price 296,304
      0x00, 0x04, 0x85, 0x74,                          // 44 current reference price 296,308
      'O',                                             // 48 cross type: opening
      'L',                                             // 49 price variation indicator: < 1%
  };
  const NetOrderImbalance m = decodeOne<NetOrderImbalance>(bytes);
  CHECK(m.type() == 'I');
  CHECK(m.locate() == 716);
  CHECK(m.tracking() == 16);
  CHECK(m.timestamp() == 34'200'000'091'476ull);
  CHECK(m.pairedShares() == 3'840ull);
  CHECK(m.imbalanceShares() == 500ull);
  CHECK(m.imbalanceDirection() == 'B');
  CHECK(m.stock() == "AAPL");
  CHECK(m.farPrice() == 296'300);
  CHECK(m.nearPrice() == 296'304);
  CHECK(m.currentReferencePrice() == 296'308);
  CHECK(m.crossType() == 'O');
  CHECK(m.priceVariationIndicator() == 'L');
  checkTable(bytes, {{"paired_shares", kInt, 3'840},
                     {"imbalance_shares", kInt, 500},
                     {"imbalance_direction", kAlpha, "B"},
                     {"stock", kAlpha, "AAPL"},
                     {"far_price", kP4, 296'300},
                     {"near_price", kP4, 296'304},
                     {"current_reference_price", kP4, 296'308},
                     {"cross_type", kAlpha, "O"},
                     {"price_variation_indicator", kAlpha, "L"}});
}

TEST_CASE("itch: N retail interest", "[itch]") {
  const uint8_t bytes[] = {
      'N',                                           // 0  message type
      0x00, 0x2B,                                    // 1  stock locate 43
      0x00, 0x11,                                    // 3  tracking number 17
      0x09, 0xD2, 0x92, 0x29, 0xE0, 0x00,            // 5  timestamp 10,800,000,000,000 ns
      'I',  'B',  'M',  ' ',  ' ',  ' ',  ' ', ' ',  // 11 stock "IBM"
      'B',                                           // 19 interest flag: buy side
  };
  const RetailInterest m = decodeOne<RetailInterest>(bytes);
  CHECK(m.type() == 'N');
  CHECK(m.locate() == 43);
  CHECK(m.tracking() == 17);
  CHECK(m.timestamp() == 10'800'000'000'000ull);
  CHECK(m.stock() == "IBM");
  CHECK(m.interestFlag() == 'B');
  checkTable(bytes, {{"stock", kAlpha, "IBM"}, {"interest_flag", kAlpha, "B"}});
}

TEST_CASE("itch: O direct listing with capital raise price discovery", "[itch]") {
  const uint8_t bytes[] = {
      'O',                                             // 0  message type
      0x00, 0x2C,                                      // 1  stock locate 44
      0x00, 0x12,                                      // 3  tracking number 18
      0x37, 0x24, 0xE0, 0x5A, 0x40, 0xA1,              // 5  timestamp 60,631,522,361,505 ns
      'R',  'D',  'D',  'T',  ' ',  ' ',  ' ',  ' ',   // 11 stock "RDDT"
      'Y',                                             // 19 open eligibility status: eligible
      0x00, 0x01, 0x86, 0xA0,                          // 20 minimum allowable price 10.0000 -> 100,000
      0x00, 0x03, 0x0D, 0x40,                          // 24 maximum allowable price 20.0000 -> 200,000
      0x00, 0x02, 0x49, 0xF0,                          // 28 near execution price 15.0000 -> 150,000
      0x00, 0x00, 0x1F, 0x1A, 0xCE, 0xDB, 0x55, 0x54,  // 32 near execution time 34,200,000,091,476
      0x00, 0x01, 0xAD, 0xB0,                          // 40 lower price range collar 11.0000 -> 110,000
      0x00, 0x02, 0xBF, 0x20,                          // 44 upper price range collar 18.0000 -> 180,000
  };
  const DirectListingPriceDiscovery m = decodeOne<DirectListingPriceDiscovery>(bytes);
  CHECK(m.type() == 'O');
  CHECK(m.locate() == 44);
  CHECK(m.tracking() == 18);
  CHECK(m.timestamp() == 60'631'522'361'505ull);
  CHECK(m.stock() == "RDDT");
  CHECK(m.openEligibilityStatus() == 'Y');
  CHECK(m.minimumAllowablePrice() == 100'000);
  CHECK(m.maximumAllowablePrice() == 200'000);
  CHECK(m.nearExecutionPrice() == 150'000);
  CHECK(m.nearExecutionTime() == 34'200'000'091'476ull);
  CHECK(m.lowerPriceRangeCollar() == 110'000);
  CHECK(m.upperPriceRangeCollar() == 180'000);
  checkTable(bytes, {{"stock", kAlpha, "RDDT"},
                     {"open_eligibility_status", kAlpha, "Y"},
                     {"minimum_allowable_price", kP4, 100'000},
                     {"maximum_allowable_price", kP4, 200'000},
                     {"near_execution_price", kP4, 150'000},
                     {"near_execution_time", kInt, 34'200'000'091'476ull},
                     {"lower_price_range_collar", kP4, 110'000},
                     {"upper_price_range_collar", kP4, 180'000}});
}

TEST_CASE("itch: the 23 types and their lengths are exactly the spec's", "[itch]") {
  // Section 1 of the specification: type and total length of each message.
  const std::pair<char, size_t> spec[] = {{'S', 12}, {'R', 39}, {'H', 25}, {'Y', 20}, {'L', 26}, {'V', 35},
                                          {'W', 12}, {'K', 28}, {'J', 35}, {'h', 21}, {'A', 36}, {'F', 40},
                                          {'E', 31}, {'C', 36}, {'X', 23}, {'D', 19}, {'U', 35}, {'P', 44},
                                          {'Q', 40}, {'B', 19}, {'I', 50}, {'N', 20}, {'O', 48}};
  size_t defined = 0;
  for (unsigned t = 0; t < 256; ++t) defined += kLengthByType[t] != 0;
  CHECK(defined == 23);
  CHECK(kLayouts.size() == 23);
  for (const auto& [type, length] : spec) {
    INFO("type " << type);
    CHECK(kLengthByType[static_cast<uint8_t>(type)] == length);
    const MessageLayout* layout = layoutOf(type);
    REQUIRE(layout != nullptr);
    CHECK(layout->length == length);
  }
  CHECK(layoutOf('Z') == nullptr);
  CHECK(layoutOf('\0') == nullptr);
  CHECK(layoutOf('a') == nullptr);
}

TEST_CASE("itch: unknown types are refused without a callback", "[itch]") {
  // Types the specification does not define; padded to plausible lengths so
  // only the type decides. 'a' is not 'A', 'H' is not 'h' in reverse.
  for (const uint8_t type : {uint8_t{'Z'}, uint8_t{0x00}, uint8_t{'a'}, uint8_t{'s'}, uint8_t{0xFF}, uint8_t{' '}}) {
    INFO("type 0x" << std::hex << int(type));
    uint8_t msg[36] = {};
    msg[0] = type;
    EveryView every;
    CHECK(decode(msg, sizeof msg, every) == DecodeStatus::UnknownType);
    CHECK(decode(msg, 1, every) == DecodeStatus::UnknownType);
    CHECK(decode(msg, 12, every) == DecodeStatus::UnknownType);
    CHECK(every.seen.empty());
  }
}

TEST_CASE("itch: a zero-length block is Empty", "[itch]") {
  const uint8_t byte = 'A';
  EveryView every;
  CHECK(decode(&byte, 0, every) == DecodeStatus::Empty);
  CHECK(every.seen.empty());
  NoHandler none;
  CHECK(decode(&byte, 0, none) == DecodeStatus::Empty);
}

TEST_CASE("itch: DecodeCounters", "[itch]") {
  const uint8_t a[36] = {'A'};  // type only: the length check needs nothing else
  const uint8_t f[40] = {'F'};
  const uint8_t s[12] = {'S'};
  const uint8_t z[12] = {'Z'};

  DecodeCounters counters;
  NoHandler none;
  auto feed = [&](const uint8_t* msg, size_t length) {
    const DecodeStatus status = decode(msg, length, none);
    counters.count(status, length > 0 ? msg[0] : 0);
    return status;
  };
  CHECK(feed(a, 36) == DecodeStatus::Ok);
  CHECK(feed(a, 36) == DecodeStatus::Ok);
  CHECK(feed(f, 40) == DecodeStatus::Ok);
  CHECK(feed(s, 12) == DecodeStatus::Ok);
  CHECK(feed(a, 35) == DecodeStatus::BadLength);
  CHECK(feed(f, 36) == DecodeStatus::BadLength);  // an A's length is not an F's
  CHECK(feed(z, 12) == DecodeStatus::UnknownType);
  CHECK(feed(a, 0) == DecodeStatus::Empty);

  CHECK(counters.messages == 4);
  CHECK(counters.byType['A'] == 2);
  CHECK(counters.byType['F'] == 1);
  CHECK(counters.byType['S'] == 1);
  CHECK(counters.byType['Z'] == 0);
  CHECK(counters.unknownType == 1);
  CHECK(counters.badLength == 3);  // two wrong lengths and the empty block
  uint64_t total = 0;
  for (const uint64_t n : counters.byType) total += n;
  CHECK(total == counters.messages);
}

TEST_CASE("itch: a handler of A alone receives F messages as AddOrder", "[itch]") {
  const uint8_t f[] = {
      'F',                                             // 0  message type
      0x00, 0x07,                                      // 1  stock locate 7
      0x00, 0x00,                                      // 3  tracking number 0
      0x1F, 0x1A, 0xCE, 0xDB, 0x55, 0x54,              // 5  timestamp
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A,  // 11 order reference 42
      'S',                                             // 19 side
      0x00, 0x00, 0x00, 0xC8,                          // 20 shares 200
      'Q',  'Q',  'Q',  ' ',  ' ',  ' ',  ' ',  ' ',   // 24 stock "QQQ"
      0x00, 0x00, 0x27, 0x10,                          // 32 price 1.0000 -> 10,000
      'M',  'S',  'C',  'O',                           // 36 attribution "MSCO"
  };
  const uint8_t a[] = {
      'A',  0x00, 0x07, 0x00, 0x00, 0x1F, 0x1A, 0xCE, 0xDB, 0x55, 0x54,  // header as above
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2B,                    // order reference 43
      'B',  0x00, 0x00, 0x00, 0x64,                                      // buy 100
      'Q',  'Q',  'Q',  ' ',  ' ',  ' ',  ' ',  ' ',                     // stock "QQQ"
      0x00, 0x00, 0x27, 0x0F,                                            // price 9,999
  };
  Capture<AddOrder> addOnly;
  REQUIRE(decode(f, sizeof f, addOnly) == DecodeStatus::Ok);
  REQUIRE(addOnly.calls == 1);
  CHECK(addOnly.view->type() == 'F');
  CHECK(addOnly.view->orderRef() == 42);
  CHECK(addOnly.view->side() == 'S');
  CHECK(addOnly.view->shares() == 200);
  CHECK(addOnly.view->stock() == "QQQ");
  CHECK(addOnly.view->price() == 10'000);
  REQUIRE(decode(a, sizeof a, addOnly) == DecodeStatus::Ok);
  CHECK(addOnly.calls == 2);
  CHECK(addOnly.view->orderRef() == 43);
  CHECK(addOnly.view->price() == 9'999);

  // A handler of F alone does not see A.
  Capture<AddOrderMpid> mpidOnly;
  REQUIRE(decode(a, sizeof a, mpidOnly) == DecodeStatus::Ok);
  CHECK(mpidOnly.calls == 0);
  REQUIRE(decode(f, sizeof f, mpidOnly) == DecodeStatus::Ok);
  CHECK(mpidOnly.calls == 1);
  CHECK(mpidOnly.view->attribution() == "MSCO");
}
