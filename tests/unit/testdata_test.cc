// Exact totals over every real capture in ../shared/testdata/itch50 (the
// directory is walked, so a new file without expected values fails), replayed
// with feed::replayFile + itch::decode into book::OrderBooks, and fields of
// single messages checked against hex dumps.
//
// How the expected numbers were obtained, independently of this project's
// code: a throwaway Python script (not committed) parsed the bytes itself
// (pcap record headers, Ethernet/VLAN/IPv4/UDP, MoldUDP64 header and blocks,
// the ITCH 5.0 lengths of the spec, and a dict of live orders for the book
// totals: A/F add, E/C/X reduce, D remove, U replace on the same locate and
// side, references to orders not live counted as unknown); its frame, packet,
// session and sequence counts were cross-checked with tshark 4.0.17
// (`tshark -r F -d udp.port==P,moldudp64 -T fields -e moldudp64.session
// -e moldudp64.sequence -e moldudp64.count`) where the UDP port is not zeroed,
// and the HSRP frames with `tshark -Y hsrp`. The README's 399 (snippet) and
// 1,102 (pcap) references to unknown orders are what that model counts too:
// they are references, not orders (392 and 1,086 distinct orders).
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "book/book_builder.h"
#include "book/order_book.h"
#include "capture/capture.h"
#include "feed/file_source.h"
#include "itch/decoder.h"
#include "itch/messages.h"
#include "mold/moldudp64.h"
#include "testdata.h"

using fh::capture::Format;

namespace {

struct PacketTotals {
  uint64_t packets = 0, heartbeats = 0, endOfSession = 0, truncated = 0, overrun = 0, trailing = 0;
};

struct BookTotals {
  uint64_t liveOrders = 0, liveLevels = 0;
  uint64_t unknownOrder = 0;  // E, C, X, D and U on an order that is not live
  uint64_t executions = 0;    // E and C on live orders
  uint64_t cancels = 0, deletes = 0, replaces = 0;
  uint64_t booksWithOrders = 0;  // locates with a live order at the end
};

struct SeqSession {
  uint64_t sequence = 0;
  std::string session;
  bool operator==(const SeqSession&) const = default;
};

struct Expected {
  Format format;
  uint64_t records;  // BinaryFILE records or capture frames
  std::map<char, uint64_t> byType;
  uint64_t unknownType = 0, badLength = 0;
  PacketTotals packets{};  // all zero for a BinaryFILE
  uint64_t portFiltered = 0;
  SeqSession first, last;  // of the messages (MoldUDP64, or 1-based record position)
  // Messages whose sequence is not the previous one's + 1 (the omi .20230822
  // files zero every sequence number: 0, 0, 0, 0, 0 is 4 breaks).
  uint64_t sequenceBreaks = 0;
  BookTotals book;
};

// Files of the test data directory that are not captures.
const std::set<std::string> kNotData = {"README.md", "SHA256SUMS"};

// Expected values of every capture, replayed with no port filter.
// clang-format off
const std::map<std::string, Expected> kExpected = {
    {"12302019_SNIPPET.NASDAQ_ITCH50",
     {.format = Format::BinaryFile,
      .records = 1000,
      .byType = {{'A', 367}, {'C', 1}, {'D', 167}, {'E', 28}, {'F', 193}, {'I', 4},
                 {'P', 4}, {'Q', 4}, {'S', 1}, {'U', 225}, {'X', 6}},
      .first = {1, ""},
      .last = {1000, ""},
      .book = {.liveOrders = 532, .liveLevels = 421, .unknownOrder = 399, .executions = 0,
               .cancels = 0, .deletes = 28, .replaces = 0, .booksWithOrders = 185}}},
    {"bx_sample_20191230.NASDAQ_ITCH50",
     {.format = Format::BinaryFile,
      .records = 12012,
      .byType = {{'A', 4997}, {'D', 1745}, {'E', 198}, {'F', 3}, {'H', 3}, {'P', 5000},
                 {'R', 3}, {'S', 6}, {'U', 12}, {'X', 45}},
      .first = {1, ""},
      .last = {12012, ""},
      .book = {.liveOrders = 3204, .liveLevels = 1155, .unknownOrder = 117, .executions = 180,
               .cancels = 42, .deletes = 1651, .replaces = 10, .booksWithOrders = 3}}},
    {"elk_nasdaq.pcap",
     {.format = Format::Pcap,
      .records = 2047,
      .byType = {{'A', 635}, {'D', 1389}, {'E', 12}, {'P', 1}, {'U', 109}, {'X', 86}},
      .packets = {.packets = 2047, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 11},
      .first = {484311999, "000007525B"},
      .last = {484314230, "000007525B"},
      .book = {.liveOrders = 215, .liveLevels = 185, .unknownOrder = 1102, .executions = 6,
               .cancels = 65, .deletes = 417, .replaces = 6, .booksWithOrders = 72}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__AddOrderMpidAttributionMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'F', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 5, .liveLevels = 5, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 5}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__AddOrderNoMpidAttributionMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'A', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 5, .liveLevels = 5, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 5}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__NonCrossTradeMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'P', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__OrderCancelMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'X', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__OrderDeleteMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'D', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__OrderExecutedMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'E', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__OrderExecutedWithPriceMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'C', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__OrderReplaceMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'U', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__RegShoShortSalePriceTestRestrictedIndicatorMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'Y', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__RetailInterestMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'N', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__StockTradingActionMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'H', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0.20230822__SystemEventMessage.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'S', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0__AddOrderNoMpidAttributionMessage.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'A', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {1621717, "000010059D"},
      .last = {1621717, "000010059D"},
      .book = {.liveOrders = 1, .liveLevels = 1, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 1}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0__OrderDeleteMessage.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'D', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {1621741, "000010059D"},
      .last = {1621741, "000010059D"},
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 1, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Bx.Equities.TotalView.Itch.v5.0__OrderReplaceMessage.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'U', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {1621746, "000010059D"},
      .last = {1621746, "000010059D"},
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 1, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__AddOrderNoMPID.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'A', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 5, .liveLevels = 4, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 4}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__AddOrderWithMPID.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'F', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 5, .liveLevels = 5, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 5}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__CrossTrade.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'Q', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__LULDAuctionCollar.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'J', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__MarketParticipantPosition.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'L', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__NetOrderImbalanceIndicator.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'I', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__NonCrossTrade.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'P', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__OrderCancel.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'X', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__OrderDelete.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'D', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__OrderExecuted.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'E', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__OrderExecutedWithPrice.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'C', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__OrderReplace.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'U', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__RegSHORestriction.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'Y', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__StockTradingAction.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'H', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__SystemEvent.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'S', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__AddOrderNoMpidAttributionMessage.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'A', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {14757721, "000010059B"},
      .last = {14757721, "000010059B"},
      .book = {.liveOrders = 1, .liveLevels = 1, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 1}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__MarketParticipantPositionMessage.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'L', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {17861990, "000010059B"},
      .last = {17861990, "000010059B"},
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__Multiple.Packets.pcap",
     {.format = Format::Pcap,
      .records = 2,
      .byType = {{'A', 36}, {'D', 1}, {'F', 2}},
      .packets = {.packets = 2, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {14764496, "000010059B"},
      .last = {19009154, "000010059B"},
      .sequenceBreaks = 1,
      .book = {.liveOrders = 38, .liveLevels = 17, .unknownOrder = 1, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 1}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__NetOrderImbalanceIndicatorMessage.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'I', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {14757919, "000010059B"},
      .last = {14757919, "000010059B"},
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__OrderDeleteMessage.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'D', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {14757722, "000010059B"},
      .last = {14757722, "000010059B"},
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 1, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__OrderExecutedMessage.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'E', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {14757745, "000010059B"},
      .last = {14757745, "000010059B"},
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 1, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__OrderReplaceMessage.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'U', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {14757701, "000010059B"},
      .last = {14757701, "000010059B"},
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 1, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Nasdaq.Equities.TotalView.Itch.v5.0__StockTradingActionMessage.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'H', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {34147961, "000010059B"},
      .last = {34147961, "000010059B"},
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__AddOrderNoMpidAttributionMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'A', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 5, .liveLevels = 5, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 5}}},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__AddOrderWithMpidAttributionMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'F', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 5, .liveLevels = 4, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 4}}},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__OrderCancelMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'X', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__OrderDeleteMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'D', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__OrderExecutedMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'E', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__OrderExecutedWithPriceMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'C', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__OrderReplaceMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'U', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 5, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__RegShoShortSalePriceTestRestrictedIndicatorMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'Y', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__StockTradingActionMessage.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'H', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__SystemEventMessage.pcap",
     {.format = Format::Pcap,
      .records = 1,
      .byType = {{'S', 1}},
      .packets = {.packets = 1, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
    {"omi/Psx.Equities.TotalView.Itch.v5.0.20230822__TradeMessageNon-cross.pcap",
     {.format = Format::Pcap,
      .records = 5,
      .byType = {{'P', 5}},
      .packets = {.packets = 5, .heartbeats = 0, .endOfSession = 0,
                  .truncated = 0, .overrun = 0, .trailing = 0},
      .first = {0, ""},
      .last = {0, ""},
      .sequenceBreaks = 4,
      .book = {.liveOrders = 0, .liveLevels = 0, .unknownOrder = 0, .executions = 0,
               .cancels = 0, .deletes = 0, .replaces = 0, .booksWithOrders = 0}}},
};
// clang-format on

struct Discard {
  void mbo(const fh::record::MboMsg&) noexcept {}
  void mbp1(const fh::record::Mbp1Msg&) noexcept {}
};

fh::book::BookConfig testBookConfig() {
  fh::book::BookConfig c;
  c.maxInstruments = 65536;
  c.maxOrders = 1 << 16;
  c.maxLevels = 1 << 16;
  return c;
}

struct Message {
  fh::feed::MessageMeta meta;
  std::string session;  // owned copy of meta.session
  std::vector<uint8_t> bytes;
};

struct Malformed {
  uint64_t frame;
  fh::mold::PacketKind kind;
  uint16_t count;
  uint16_t blocks;
};

// Replays one file into decode counters and books, and keeps every message.
class Replay {
 public:
  Replay() : books_(testBookConfig()), builder_(books_, sink_, 0) {}

  void message(const fh::feed::MessageMeta& meta, const uint8_t* msg, uint16_t length) {
    builder_.setContext(meta.sequence, meta.receivedNs);
    decode.count(fh::itch::decode(msg, length, builder_), length > 0 ? msg[0] : 0);
    if (!messages.empty() && meta.sequence != messages.back().meta.sequence + 1) ++sequenceBreaks;
    messages.push_back({meta, std::string(meta.session), std::vector<uint8_t>(msg, msg + length)});
  }
  void malformedPacket(uint64_t frame, const fh::mold::PacketResult& r) {
    malformed.push_back({frame, r.kind, r.header.count, r.blocks});
  }

  const fh::book::OrderBooks& books() const { return books_; }
  const fh::book::BookBuilder<Discard>& builder() const { return builder_; }

  fh::itch::DecodeCounters decode;
  uint64_t sequenceBreaks = 0;
  std::vector<Message> messages;
  std::vector<Malformed> malformed;
  fh::feed::FileSourceCounters source;
  fh::feed::FileSourceResult result;

 private:
  Discard sink_;
  fh::book::OrderBooks books_;
  fh::book::BookBuilder<Discard> builder_;
};

std::unique_ptr<Replay> replay(const std::string& relative, std::optional<uint16_t> port = std::nullopt) {
  const fh::capture::MappedFile file(fh::test::testdata(relative));
  auto r = std::make_unique<Replay>();
  r->result = fh::feed::replayFile(file.bytes(), fh::feed::FileSourceOptions{port}, r->source, *r);
  return r;
}

// Every total of `e` against one replay.
void checkTotals(const Replay& r, const Expected& e) {
  CHECK(r.result.ok());
  CHECK(r.result.error.empty());
  CHECK_FALSE(r.result.truncated);
  CHECK(r.result.format == e.format);
  CHECK(r.result.records == e.records);

  uint64_t expectedMessages = 0;
  for (const auto& [type, n] : e.byType) expectedMessages += n;
  CHECK(r.decode.messages == expectedMessages);
  for (unsigned t = 0; t < 256; ++t) {
    const auto it = e.byType.find(static_cast<char>(t));
    INFO("type '" << static_cast<char>(t) << "'");
    CHECK(r.decode.byType[t] == (it == e.byType.end() ? 0 : it->second));
  }
  CHECK(r.decode.unknownType == e.unknownType);
  CHECK(r.decode.badLength == e.badLength);
  CHECK(r.messages.size() == expectedMessages + e.unknownType + e.badLength);

  const auto& s = r.source;
  CHECK(s.frames == (e.format == Format::BinaryFile ? 0 : e.records));
  CHECK(s.portFiltered == e.portFiltered);
  CHECK(s.notIpv4 == 0);
  CHECK(s.fragments == 0);
  CHECK(s.notUdp == 0);
  CHECK(s.truncatedFrames == 0);
  CHECK(s.unknownLink == 0);
  CHECK(s.packets.packets == e.packets.packets);
  CHECK(s.packets.heartbeats == e.packets.heartbeats);
  CHECK(s.packets.endOfSession == e.packets.endOfSession);
  CHECK(s.packets.truncated == e.packets.truncated);
  CHECK(s.packets.overrun == e.packets.overrun);
  CHECK(s.packets.trailing == e.packets.trailing);
  CHECK(r.malformed.size() == e.packets.truncated + e.packets.overrun + e.packets.trailing);

  REQUIRE_FALSE(r.messages.empty());
  CHECK(SeqSession{r.messages.front().meta.sequence, r.messages.front().session} == e.first);
  CHECK(SeqSession{r.messages.back().meta.sequence, r.messages.back().session} == e.last);
  CHECK(r.sequenceBreaks == e.sequenceBreaks);
  for (const Message& m : r.messages) {
    if (m.meta.fromPacket != (e.format != Format::BinaryFile)) FAIL("fromPacket wrong at sequence " << m.meta.sequence);
    if (!m.meta.fromPacket && (m.meta.receivedNs != 0 || !m.session.empty()))
      FAIL("a BinaryFILE record has a receive time or session at " << m.meta.sequence);
  }

  const fh::book::OrderBooks& books = r.books();
  const fh::book::BookCounters& c = books.counters();
  CHECK(books.liveOrders() == e.book.liveOrders);
  CHECK(books.liveLevels() == e.book.liveLevels);
  CHECK(c.unknownOrder == e.book.unknownOrder);
  CHECK(c.executions == e.book.executions);
  CHECK(c.cancels == e.book.cancels);
  CHECK(c.deletes == e.book.deletes);
  CHECK(c.replaces == e.book.replaces);
  // No file has a duplicate add, a bad locate or side, an execution beyond
  // the open shares, or a message on another locate than its order's; so
  // every A and F is an add.
  const auto count = [&](char t) {
    const auto it = e.byType.find(t);
    return it == e.byType.end() ? 0 : it->second;
  };
  CHECK(c.adds == count('A') + count('F'));
  CHECK(c.duplicateOrder == 0);
  CHECK(c.badInstrument == 0);
  CHECK(c.badPrice == 0);
  CHECK(r.builder().counters().badSide == 0);
  CHECK(c.overExecuted == 0);
  CHECK(c.orderStoreFull == 0);
  CHECK(c.levelStoreFull == 0);
  CHECK(r.builder().counters().locateMismatch == 0);

  uint64_t withOrders = 0, levels = 0, orders = 0;
  for (uint32_t locate = 1; locate < books.maxInstruments(); ++locate) {
    const auto l = static_cast<uint16_t>(locate);
    bool any = false;
    for (const fh::book::Side side : {fh::book::Side::Bid, fh::book::Side::Ask}) {
      const uint32_t depth = books.depth(l, side);
      any = any || depth > 0;
      levels += depth;
      for (uint32_t i = 0; i < depth; ++i) orders += books.level(l, side, i).orders;
    }
    withOrders += any;
  }
  CHECK(withOrders == e.book.booksWithOrders);
  CHECK(levels == e.book.liveLevels);
  CHECK(orders == e.book.liveOrders);
}

// The n-th (1-based) decoded message of a type.
const Message& nth(const Replay& r, char type, size_t n) {
  for (const Message& m : r.messages)
    if (!m.bytes.empty() && static_cast<char>(m.bytes[0]) == type && --n == 0) return m;
  FAIL("fewer messages of type " << type << " than asked");
  throw std::logic_error("unreachable");
}

template <class View>
View viewOf(const Message& m) {
  REQUIRE(m.bytes.size() == fh::itch::Traits<View>::kLength);
  REQUIRE(static_cast<char>(m.bytes[0]) == fh::itch::Traits<View>::kType);
  return View{{m.bytes.data()}};
}

}  // namespace

TEST_CASE("testdata: exact totals of every capture", "[testdata]") {
  namespace fs = std::filesystem;
  const fs::path root = fh::test::testdata("");
  REQUIRE(fs::is_directory(root));
  std::set<std::string> seen;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string relative = entry.path().lexically_relative(root).generic_string();
    if (kNotData.count(relative) != 0) continue;
    INFO("file " << relative);
    const auto it = kExpected.find(relative);
    if (it == kExpected.end()) {
      FAIL_CHECK("no expected values for " << relative << ": add it to kExpected");
      continue;
    }
    seen.insert(relative);
    checkTotals(*replay(relative), it->second);
  }
  for (const auto& [relative, expected] : kExpected) {
    INFO("file " << relative);
    CHECK(seen.count(relative) == 1);  // every known file is still there
  }
  CHECK(seen.size() == 52);
}

TEST_CASE("testdata: elk_nasdaq.pcap with --port 26477 filters the HSRP frames", "[testdata]") {
  Expected e = kExpected.at("elk_nasdaq.pcap");
  // The 11 HSRP frames (UDP 1985) never reach MoldUDP64: 2,036 packets, none malformed.
  e.packets = {.packets = 2036};
  e.portFiltered = 11;
  checkTotals(*replay("elk_nasdaq.pcap", 26477), e);

  // A port nothing goes to: every frame filtered, nothing decoded.
  const auto none = replay("elk_nasdaq.pcap", 26478);
  CHECK(none->result.ok());
  CHECK(none->source.portFiltered == 2047);
  CHECK(none->source.packets.packets == 0);
  CHECK(none->messages.empty());
}

TEST_CASE("testdata: the HSRP frames of elk_nasdaq.pcap are heartbeats with trailing bytes", "[testdata]") {
  // tshark -r elk_nasdaq.pcap -Y hsrp -T fields -e frame.number: UDP 1985,
  // 52-byte HSRPv2 payload whose bytes 18-19 (the MoldUDP64 count) are 00 00.
  const uint64_t hsrpFrames[] = {1, 94, 161, 224, 358, 520, 574, 734, 886, 1052, 1341};
  const auto r = replay("elk_nasdaq.pcap");
  REQUIRE(r->malformed.size() == 11);
  for (size_t i = 0; i < 11; ++i) {
    INFO("malformed packet " << i);
    CHECK(r->malformed[i].frame == hsrpFrames[i]);
    CHECK(r->malformed[i].kind == fh::mold::PacketKind::Trailing);
    CHECK(r->malformed[i].count == 0);
    CHECK(r->malformed[i].blocks == 0);
  }
}

TEST_CASE("testdata: first A of elk_nasdaq.pcap, from its hex dump", "[testdata]") {
  // Frame 2: pcap record header at file offset 138 (xxd -s 138 -l 16):
  //   97 66 d8 57 | 4b fd 07 00 | 64 00 00 00 -> 1473799831 s + 523,595 us, 100 bytes
  //   (tshark frame.time_epoch 1473799831.523595000); the frame at offset 154 (tshark -x):
  //   0x0e IPv4, 0x22 UDP 52086 -> 26477, 0x2a MoldUDP64:
  //   0x2a "000007525B"  0x34 00 00 00 00 1c de 03 bf (484,311,999)  0x3c 00 01
  //   0x3e 00 24 (36)  0x40 (file offset 218) 'A' | 1f e4 | 00 00 | 37 24 e0 59 e1 88 |
  //   00 00 00 00 1a 0a f5 b8 | 'B' | 00 00 02 bc | "XIV     " | 00 04 f3 30
  const auto r = replay("elk_nasdaq.pcap");
  const Message& m = nth(*r, 'A', 1);
  CHECK(&m == &r->messages.front());
  CHECK(m.meta.sequence == 484'311'999);
  CHECK(m.session == "000007525B");
  CHECK(m.meta.fromPacket);
  CHECK(m.meta.receivedNs == 1'473'799'831'523'595'000ull);
  const auto a = viewOf<fh::itch::AddOrder>(m);
  CHECK(a.locate() == 8164);  // 0x1fe4
  CHECK(a.tracking() == 0);
  CHECK(a.timestamp() == 60'631'522'337'160ull);  // 0x3724e059e188
  CHECK(a.orderRef() == 436'925'880ull);          // 0x1a0af5b8
  CHECK(a.side() == 'B');
  CHECK(a.shares() == 700);  // 0x2bc
  CHECK(a.stock() == "XIV");
  CHECK(a.price() == 324'400);  // 0x4f330
}

TEST_CASE("testdata: C and U of the snippet, from its hex dump", "[testdata]") {
  const auto r = replay("12302019_SNIPPET.NASDAQ_ITCH50");
  SECTION("the only C: record 308") {
    // xxd -s 10668 -l 38: 0024 | 43 | 0e58 | 0001 | 1f1a cee9 1efc |
    //   0000 0000 0056 961a | 0000 0036 | 0000 0000 0000 d0f8 | 4e | 0006 2b4c
    const Message& m = nth(*r, 'C', 1);
    CHECK(m.meta.sequence == 308);
    CHECK_FALSE(m.meta.fromPacket);
    const auto c = viewOf<fh::itch::OrderExecutedWithPrice>(m);
    CHECK(c.locate() == 3672);  // 0x0e58
    CHECK(c.tracking() == 1);
    CHECK(c.timestamp() == 34'200'000'995'068ull);  // 0x1f1acee91efc
    CHECK(c.orderRef() == 5'674'522ull);            // 0x56961a
    CHECK(c.executedShares() == 54);                // 0x36
    CHECK(c.matchNumber() == 53'496ull);            // 0xd0f8
    CHECK(c.printable() == 'N');
    CHECK(c.executionPrice() == 404'300);  // 0x062b4c
  }
  SECTION("the first U: record 5") {
    // xxd -s 89 -l 37: 0023 | 55 | 1154 | 0000 | 1f1a cedb 5554 |
    //   0000 0000 0055 4672 | 0000 0000 0056 9e5a | 0000 03e8 | 001c 758c
    const Message& m = nth(*r, 'U', 1);
    CHECK(m.meta.sequence == 5);
    const auto u = viewOf<fh::itch::OrderReplace>(m);
    CHECK(u.locate() == 4436);  // 0x1154
    CHECK(u.tracking() == 0);
    CHECK(u.timestamp() == 34'200'000'091'476ull);  // 0x1f1acedb5554
    CHECK(u.originalOrderRef() == 5'588'594ull);    // 0x554672
    CHECK(u.newOrderRef() == 5'676'634ull);         // 0x569e5a
    CHECK(u.shares() == 1'000);                     // 0x3e8
    CHECK(u.price() == 1'865'100);                  // 0x1c758c
  }
  SECTION("the first record: the spec's second example line") {
    // xxd -l 21: 0013 | 44 | 0be1 | 0000 | 1f1a ced9 f0e6 | 0000 0000 004a 07ee
    const Message& m = r->messages.front();
    CHECK(m.meta.sequence == 1);
    const auto d = viewOf<fh::itch::OrderDelete>(m);
    CHECK(d.locate() == 3041);
    CHECK(d.timestamp() == 34'200'000'000'230ull);
    CHECK(d.orderRef() == 4'851'694ull);
  }
}

TEST_CASE("testdata: first R of the BX sample, from its hex dump", "[testdata]") {
  // xxd -s 14 -l 41: 0027 | 52 | 0001 | 0000 | 0a66 a294 3614 | "ALC     " | 4e | 4e |
  //   0000 0064 | 4e | 41 | "Z " | 50 | 4e | 4e | 32 | 4e | 0000 0000 | 4e
  const auto r = replay("bx_sample_20191230.NASDAQ_ITCH50");
  const Message& m = nth(*r, 'R', 1);
  CHECK(m.meta.sequence == 2);
  const auto d = viewOf<fh::itch::StockDirectory>(m);
  CHECK(d.locate() == 1);
  CHECK(d.tracking() == 0);
  CHECK(d.timestamp() == 11'435'930'564'116ull);  // 0x0a66a2943614
  CHECK(d.stock() == "ALC");
  CHECK(d.marketCategory() == 'N');
  CHECK(d.financialStatus() == 'N');
  CHECK(d.roundLotSize() == 100);
  CHECK(d.roundLotsOnly() == 'N');
  CHECK(d.issueClassification() == 'A');
  CHECK(d.issueSubtype() == "Z");
  CHECK(d.authenticity() == 'P');
  CHECK(d.shortSaleThreshold() == 'N');
  CHECK(d.ipoFlag() == 'N');
  CHECK(d.luldReferencePriceTier() == '2');
  CHECK(d.etpFlag() == 'N');
  CHECK(d.etpLeverageFactor() == 0);
  CHECK(d.inverseIndicator() == 'N');
  // The three R messages name the three obfuscated stocks, locates 1 to 3.
  CHECK(viewOf<fh::itch::StockDirectory>(nth(*r, 'R', 2)).stock() == "BOB");
  CHECK(viewOf<fh::itch::StockDirectory>(nth(*r, 'R', 3)).stock() == "CHAR");
  CHECK(r->books().instrument(3)->symbolTrimmed() == "CHAR");
}

TEST_CASE("testdata: a U in a nanosecond pcap with a VLAN tag and zeroed headers", "[testdata]") {
  // omi/Nasdaq...20230822__OrderReplace.pcap, xxd:
  //   0x00 4d3c b2a1 (nanosecond magic, little-endian)  0x14 0100 0000 (Ethernet)
  //   0x18 58b8 e464 | 2605 0000 -> 1692711000 s + 1318 ns (tshark: 1692711000.000001318)
  //   frame at 0x28: 0x0c 8100 008d (VLAN 141) 0800; IPv4 and UDP with zero addresses and
  //   ports; MoldUDP64 at frame offset 0x2e: 10 x 00 session, 8 x 00 sequence, 0001, 0023;
  //   message: 55 | 1db3 | 0000 | 1f1a ced7 71e9 | 0000 0000 00e6 897f |
  //   0000 0000 0145 f2c7 | 0000 0064 | 0010 36c8
  const auto r = replay("omi/Nasdaq.Equities.TotalView.Itch.v5.0.20230822__OrderReplace.pcap");
  REQUIRE(r->messages.size() == 5);
  const Message& m = r->messages.front();
  CHECK(m.meta.sequence == 0);
  CHECK(m.session.empty());  // all-NUL session
  CHECK(m.meta.receivedNs == 1'692'711'000'000'001'318ull);
  const auto u = viewOf<fh::itch::OrderReplace>(m);
  CHECK(u.locate() == 7603);  // 0x1db3
  CHECK(u.tracking() == 0);
  CHECK(u.timestamp() == 34'199'999'836'649ull);  // 0x1f1aced771e9
  CHECK(u.originalOrderRef() == 15'108'479ull);   // 0xe6897f
  CHECK(u.newOrderRef() == 21'361'351ull);        // 0x0145f2c7
  CHECK(u.shares() == 100);
  CHECK(u.price() == 1'062'600);  // 0x1036c8
}
